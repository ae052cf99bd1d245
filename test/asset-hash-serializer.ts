/**
 * Jest snapshot serializer that masks what changes with code rather than infrastructure: asset
 * hashes (64 hex, in S3 keys and image tags) and the hash CDK puts in the logical ID of a Lambda's
 * current Version. Snapshots then change only when the infrastructure does.
 */
const ASSET_HASH = /[0-9a-f]{64}/g;
const CURRENT_VERSION = /CurrentVersion[0-9A-Fa-f]{40}/g;

function mask(value: string): string {
  return value.replace(ASSET_HASH, '[ASSET_HASH]').replace(CURRENT_VERSION, 'CurrentVersion[HASH]');
}

module.exports = {
  test: (value: unknown): boolean => typeof value === 'string' && mask(value) !== value,
  serialize: (
    value: string,
    config: unknown,
    indent: string,
    depth: number,
    refs: unknown,
    printer: (...args: unknown[]) => string,
  ): string => printer(mask(value), config, indent, depth, refs),
};
