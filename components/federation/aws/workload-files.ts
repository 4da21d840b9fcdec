/**
 * What a workload with an AWS grant needs in its pods, for the AWS SDKs' default credential
 * chain (every SDK and the CLI):
 * - JWT path: a JWT-SVID for the audience in the helper's `cert_dir`, and `AWS_ROLE_ARN`,
 *   `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_REGION` (the web identity provider reads the file again
 *   each time it refreshes credentials);
 * - X.509 path (Roles Anywhere): an AWS config file whose `credential_process` runs
 *   `aws_signing_helper credential-process` on the helper's X509-SVID files, `AWS_CONFIG_FILE`
 *   naming it and `AWS_REGION`. The ARNs exist only after deploy: they reach the command through
 *   the environment (`SPIFFE_AWS_*`, from the env ConfigMap), so the file stays known at plan time.
 *   `aws_signing_helper` must be in the workload's image (see the README).
 */
import type { WorkloadContribution, WorkloadFilesContext } from "../contract";
import { inDir, type WorkloadPaths } from "../paths";
import type { AwsLogin } from "./index";
import type { AwsBlock, AwsGrant } from "./schema";

/** File name of the JWT-SVID for AWS STS, in the helper's `cert_dir`. */
export const AWS_JWT_SVID_FILE = "aws-jwt-svid.token";
/** ConfigMap key of the AWS config file (X.509 path). */
export const AWS_CONFIG_FILE_KEY = "aws-config";
/** Environment variables the X.509 path's `credential_process` reads its ARNs from. */
export const AWS_X509_ENV = {
  roleArn: "SPIFFE_AWS_ROLE_ARN",
  profileArn: "SPIFFE_AWS_PROFILE_ARN",
  trustAnchorArn: "SPIFFE_AWS_TRUST_ANCHOR_ARN",
} as const;
/** The Roles Anywhere credential helper's binary, as AWS ships it. */
export const AWS_SIGNING_HELPER = "aws_signing_helper";

/**
 * The AWS config file of the X.509 path. The command is run by `sh -c` (the SDKs and the CLI
 * split `credential_process` like a shell; `sh` expands the ARNs from the environment). The
 * helper signs with the leaf (the first certificate of `svid.pem`) and sends the rest of the file
 * as the chain: SPIRE's intermediates, which rotate under the root the trust anchor holds.
 */
export function awsConfigFile(args: {
  workload: string;
  region: string;
  sessionSeconds: number;
  paths: Pick<WorkloadPaths, "svid" | "svidKey">;
}): string {
  const command = [
    `exec ${AWS_SIGNING_HELPER} credential-process`,
    `--certificate ${args.paths.svid}`,
    `--private-key ${args.paths.svidKey}`,
    `--intermediates ${args.paths.svid}`,
    `--trust-anchor-arn "$${AWS_X509_ENV.trustAnchorArn}"`,
    `--profile-arn "$${AWS_X509_ENV.profileArn}"`,
    `--role-arn "$${AWS_X509_ENV.roleArn}"`,
    `--session-duration ${args.sessionSeconds}`,
  ].join(" ");
  return [
    `# AWS config of workload ${args.workload} (written by spire-federation): IAM Roles Anywhere with the X509-SVID`,
    "[default]",
    `region = ${args.region}`,
    `credential_process = sh -c '${command}'`,
    "",
  ].join("\n");
}

/** The workload's half of its AWS grant. */
export function awsWorkloadFiles(
  ctx: WorkloadFilesContext<AwsBlock, AwsGrant, AwsLogin>,
): WorkloadContribution {
  const { block, login, paths, workload } = ctx;
  if (login.auth === "jwt") {
    return {
      jwtSvids: [{ audience: block.audience, fileName: AWS_JWT_SVID_FILE }],
      env: {
        AWS_ROLE_ARN: login.roleArn,
        AWS_WEB_IDENTITY_TOKEN_FILE: inDir(paths.certDir, AWS_JWT_SVID_FILE),
        AWS_REGION: login.region,
      },
    };
  }
  return {
    files: {
      [AWS_CONFIG_FILE_KEY]: {
        content: awsConfigFile({
          workload: workload.name,
          region: login.region,
          sessionSeconds: login.rolesAnywhere?.sessionSeconds ?? 0,
          paths,
        }),
      },
    },
    env: {
      AWS_CONFIG_FILE: inDir(paths.configDir, AWS_CONFIG_FILE_KEY),
      AWS_REGION: login.region,
      [AWS_X509_ENV.roleArn]: login.roleArn,
      [AWS_X509_ENV.profileArn]: login.rolesAnywhere?.profileArn ?? "",
      [AWS_X509_ENV.trustAnchorArn]: login.rolesAnywhere?.trustAnchorArn ?? "",
    },
  };
}
