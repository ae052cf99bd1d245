import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FileSystem, IgnoreMode } from 'aws-cdk-lib';
import type { EcsServiceConfig } from '../config/service-schema';

/** The Docker platform an ECS service's image is built for. */
export function dockerPlatform(service: Pick<EcsServiceConfig, 'architecture'>): 'linux/amd64' | 'linux/arm64' {
  return service.architecture === 'arm64' ? 'linux/arm64' : 'linux/amd64';
}

/**
 * The image tag of an ECS service: a SHA-256 over its Docker build context as Docker sees it
 * (files minus .dockerignore, line endings normalised), its Dockerfile name and target platform.
 * An unchanged build context keeps its tag, hence its task definition, so no deployment starts for
 * a service whose code did not change; any change to the context gives a new tag.
 *
 * What the hash cannot see: a base image that moved under the same `FROM` tag. Pin base images by
 * digest (`FROM node:22-alpine@sha256:...`) to make builds reproducible.
 */
export function imageTag(service: Pick<EcsServiceConfig, 'directory' | 'dockerfile' | 'architecture'>): string {
  const ignoreFile = path.join(service.directory, '.dockerignore');
  const exclude = existsSync(ignoreFile)
    ? readFileSync(ignoreFile, 'utf8')
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'))
    : [];
  return FileSystem.fingerprint(service.directory, {
    exclude,
    ignoreMode: IgnoreMode.DOCKER,
    extraHash: JSON.stringify({ dockerfile: service.dockerfile, platform: dockerPlatform(service) }),
  });
}
