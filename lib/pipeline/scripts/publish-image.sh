#!/usr/bin/env bash
# Publishes one service's image, once per content of its build context, and makes sure every
# region that runs it has it. Run by the pipeline's Images stage from the source checkout, with the
# cloud assembly in ./cdk.out:
#
#   publish-image.sh <service>
#
# The tag is the content hash the app computed at synth (cdk.out/safe-deploy.release.json): when the
# repository already has it, the build context did not change and nothing is built. Otherwise the
# image is built with the commit as a label and pushed. Then each replica region must hold the tag:
# ECR replication copies new pushes; an image pushed before a region was added is copied by hand.
#
# Environment: ACCOUNT, AWS_REGION (CodeBuild sets it), CODEBUILD_RESOLVED_SOURCE_VERSION (commit),
# MANIFEST (default cdk.out/safe-deploy.release.json), REPLICATION_WAIT_SECONDS (default 1800),
# POLL_SECONDS (default 15). Writes IMAGE_TAG, IMAGE_BUILT and IMAGE_REPOSITORY to IMAGE_ENV_FILE
# (default image.env) for the step to source and export.
set -euo pipefail

service="${1:?usage: publish-image.sh <service>}"
manifest="${MANIFEST:-cdk.out/safe-deploy.release.json}"
wait_seconds="${REPLICATION_WAIT_SECONDS:-1800}"
poll="${POLL_SECONDS:-15}"
commit="${CODEBUILD_RESOLVED_SOURCE_VERSION:-unknown}"

field() {
  node -e '
    const [file, svc, key] = process.argv.slice(1);
    const img = JSON.parse(require("fs").readFileSync(file, "utf8")).images.find((i) => i.service === svc);
    if (!img) { console.error(`publish-image: ${svc} is not an image of ${file}`); process.exit(2); }
    const v = img[key];
    console.log(Array.isArray(v) ? v.join(" ") : v);
  ' "$manifest" "$service" "$1"
}

repo="$(field repositoryName)"
tag="$(field tag)"
directory="$(field directory)"
dockerfile="$(field dockerfile)"
platform="$(field platform)"
replicas="$(field replicaRegions)"
registry() { echo "${ACCOUNT}.dkr.ecr.$1.amazonaws.com"; }
login() { aws ecr get-login-password --region "$1" | docker login --username AWS --password-stdin "$(registry "$1")" >/dev/null; }
has_tag() { aws ecr describe-images --region "$1" --repository-name "$repo" --image-ids imageTag="$tag" >/dev/null 2>&1; }

built=false
if has_tag "$AWS_REGION"; then
  echo "publish-image: $repo:$tag is already published: the build context of $service is unchanged, nothing to build"
else
  login "$AWS_REGION"
  docker build --platform "$platform" \
    --label "org.opencontainers.image.revision=$commit" \
    --label "org.opencontainers.image.title=$service" \
    -t "$(registry "$AWS_REGION")/$repo:$tag" -f "$directory/$dockerfile" "$directory"
  docker push "$(registry "$AWS_REGION")/$repo:$tag"
  built=true
  echo "publish-image: pushed $repo:$tag (commit $commit)"
fi

for region in $replicas; do
  waited=0
  until has_tag "$region"; do
    status="$(aws ecr describe-image-replication-status --repository-name "$repo" --image-id imageTag="$tag" \
      --query "replicationStatuses[?region=='$region'].status | [0]" --output text 2>/dev/null || echo None)"
    if [ "$status" = "IN_PROGRESS" ] && [ "$waited" -lt "$wait_seconds" ]; then
      sleep "$poll"
      waited=$((waited + poll))
      continue
    fi
    if [ "$status" = "IN_PROGRESS" ]; then
      echo "publish-image: replication of $repo:$tag to $region still in progress after ${wait_seconds}s" >&2
      exit 1
    fi
    # Not replicated (pushed before the region was added, or replication failed): copy it.
    echo "publish-image: $region has no $repo:$tag (replication status: $status): copying it"
    login "$AWS_REGION"
    login "$region"
    docker pull "$(registry "$AWS_REGION")/$repo:$tag"
    docker tag "$(registry "$AWS_REGION")/$repo:$tag" "$(registry "$region")/$repo:$tag"
    docker push "$(registry "$region")/$repo:$tag"
  done
  echo "publish-image: $region has $repo:$tag"
done

# For the step's exported variables (deployctl artifacts reads them from the action's output).
printf 'IMAGE_TAG=%s\nIMAGE_BUILT=%s\nIMAGE_REPOSITORY=%s\n' "$tag" "$built" "$repo" > "${IMAGE_ENV_FILE:-image.env}"
