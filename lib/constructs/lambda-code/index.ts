import * as path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildSync } from 'esbuild';

/** Node.js version the bundles target; keep in step with the functions' runtime. */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_22_X;

/** Where the handlers live: lambda/<name>/index.ts. */
export const LAMBDA_ROOT = path.join(__dirname, '..', '..', '..', 'lambda');

/**
 * A handler's code, bundled by esbuild in-process at synth: the bundling NodejsFunction does (same
 * esbuild, same settings), without spawning `npx esbuild` once per function, which costs about half
 * a second each. Pass it as `code` (with `handler: 'index.handler'`) to a NodejsFunction.
 *
 * The bundle is content-hashed; CDK caches it across stages, so each handler is built once per synth.
 * The AWS SDK v3 is left out: the Node.js 22 runtime provides it.
 */
export function bundledHandler(entry: string): lambda.Code {
  const file = path.isAbsolute(entry) ? entry : path.join(LAMBDA_ROOT, entry);
  const options = {
    entryPoints: [file],
    bundle: true,
    platform: 'node' as const,
    target: 'node22',
    format: 'cjs' as const,
    minify: true,
    sourcemap: false,
    external: ['@aws-sdk/*'],
    logLevel: 'error' as const,
  };
  return lambda.Code.fromAsset(path.dirname(file), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Only used if local bundling were unavailable, which it never is here: esbuild is a dependency.
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
      // Names the entry, so two handlers in one folder get separate cache entries.
      command: [
        'esbuild',
        path.relative(LAMBDA_ROOT, file),
        '--bundle',
        '--platform=node',
        '--target=node22',
        '--minify',
        '--external:@aws-sdk/*',
      ],
      local: {
        tryBundle(outputDir: string): boolean {
          buildSync({ ...options, outfile: path.join(outputDir, 'index.js') });
          return true;
        },
      },
    },
  });
}
