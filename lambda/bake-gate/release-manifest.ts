import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CodePipelineEvent } from 'aws-lambda';
import { unzipSync } from 'fflate';
import { describeSettingsError, GateSettings, gatesSchema, RELEASE_MANIFEST_FILE } from '../../lib/runtime/gate-settings';
import { BOUNDED_HTTP } from '../../lib/runtime/http';

type JobData = CodePipelineEvent['CodePipeline.job']['data'];

/** Reads an object of the pipeline's artifact store; tests pass a fake. */
export type ArtifactReader = (data: JobData, bucket: string, key: string) => Promise<Uint8Array>;

/** Reads the artifact with the credentials CodePipeline hands the job (the action role's, scoped to the artifacts). */
export const readArtifactWithJobCredentials: ArtifactReader = async (data, bucket, key) => {
  const c = data.artifactCredentials;
  const s3 = new S3Client({
    requestHandler: BOUNDED_HTTP,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken },
  });
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!out.Body) throw new Error(`artifact s3://${bucket}/${key} has no body`);
  return out.Body.transformToByteArray();
};

const cache = new Map<string, Record<string, GateSettings>>();

/**
 * The gates of the release being deployed: the release manifest inside the cloud assembly, which is
 * the action's input artifact (a zip). Cached per artifact: a gate polls every minute on the same one.
 */
export async function readGates(data: JobData | undefined, read: ArtifactReader): Promise<Record<string, GateSettings>> {
  const location = data?.inputArtifacts?.[0]?.location?.s3Location;
  if (!data || !location?.bucketName || !location.objectKey) {
    throw new Error('the gate action has no input artifact: give it the cloud assembly (Synth_Output), which holds the release manifest');
  }
  const id = `${location.bucketName}/${location.objectKey}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const zip = await read(data, location.bucketName, location.objectKey);
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, { filter: (f) => f.name === RELEASE_MANIFEST_FILE });
  } catch (err) {
    throw new Error(`the input artifact s3://${id} is not a zip: ${(err as Error).message}`, { cause: err });
  }
  const file = files[RELEASE_MANIFEST_FILE];
  if (!file) throw new Error(`the input artifact s3://${id} has no ${RELEASE_MANIFEST_FILE}: synthesize with bin/app.ts, which writes it`);
  let manifest: { gates?: unknown };
  try {
    manifest = JSON.parse(new TextDecoder().decode(file));
  } catch (err) {
    throw new Error(`${RELEASE_MANIFEST_FILE} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = gatesSchema.safeParse(manifest.gates);
  if (!parsed.success) throw new Error(`${RELEASE_MANIFEST_FILE} has invalid gates: ${describeSettingsError('gates', parsed.error)}`);
  cache.set(id, parsed.data);
  return parsed.data;
}

/** Forgets cached manifests (tests). */
export function clearManifestCache(): void {
  cache.clear();
}
