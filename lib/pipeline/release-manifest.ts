import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { GateSettings, RELEASE_MANIFEST_FILE } from '../runtime/gate-settings';

export { RELEASE_MANIFEST_FILE };

/**
 * A file the app writes into its cloud assembly: what the pipeline's own steps read at run time
 * (the images to publish, the targets of each wave). It travels with the release, so settings that
 * change with every commit stay out of the pipeline's structure.
 */

/** One ECS service image to build once and publish. */
export interface ImageSpec {
  readonly service: string;
  /** ECR repository name in the pipeline account, e.g. "safe-deploy/storefront". */
  readonly repositoryName: string;
  /** Content hash of the build context. */
  readonly tag: string;
  /** Build context, relative to the repository root. */
  readonly directory: string;
  /** Dockerfile, relative to `directory`. */
  readonly dockerfile: string;
  readonly platform: string;
  /** Regions of the pipeline account the image must be in besides the pipeline's (replicas). */
  readonly replicaRegions: readonly string[];
}

/** A deployment target of a wave, as the pipeline's checks see it. */
export interface ManifestTarget {
  /** The CDK Stage's path, e.g. "SafeDeployPipeline/Prod-us-east-1" (cdk diff selects "<path>/*"). */
  readonly stagePath: string;
  readonly account: string;
  readonly region: string;
}

/** What the app tells the pipeline's own steps about one release. */
export interface ReleaseManifest {
  readonly version: 1;
  /** The commit synthesized. */
  readonly commit: string;
  readonly images: readonly ImageSpec[];
  /** Targets of each pipeline stage that deploys services, by stage name. */
  readonly waves: Readonly<Record<string, readonly ManifestTarget[]>>;
  /** What each bake gate checks, by gate stage name (lambda/bake-gate reads it). */
  readonly gates: Readonly<Record<string, GateSettings>>;
}

/** Writes the manifest into a synthesized assembly directory. */
export function writeReleaseManifest(assemblyDir: string, manifest: ReleaseManifest): void {
  writeFileSync(path.join(assemblyDir, RELEASE_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}
