import { ConfigurationError } from "../db/errors.js";
import type { ConnectionTarget } from "./target.js";

/** AWS credentials, or a function returning them (the shape of the AWS SDK's, so its providers fit). */
export type AwsCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date };

export interface IamAuthOptions {
  /** Defaults to the runtime's region (`AWS_REGION`, which ECS sets). */
  region?: string;
  /** Defaults to the AWS SDK's provider chain (the ECS task role). */
  credentials?: AwsCredentials | (() => Promise<AwsCredentials>);
}

/**
 * The pool's password function for RDS IAM authentication: each new connection gets a freshly
 * signed token (valid 15 minutes, and only checked at login, so a long-lived pooled connection is
 * unaffected by its expiry). Signing is local, with no network call once credentials are known.
 * `@aws-sdk/rds-signer` is an optional peer, imported on first use: services that use passwords
 * neither install nor load it.
 *
 * ```ts
 * const db = createDb({ iam: { region: "eu-west-1" } }); // calls iamPassword(target, …) for the pool
 * ```
 */
export function iamPassword(target: ConnectionTarget, options: IamAuthOptions = {}): () => Promise<string> {
  let signer: { getAuthToken(): Promise<string> } | undefined;
  return async () => {
    if (!signer) {
      let Signer: typeof import("@aws-sdk/rds-signer").Signer;
      try {
        ({ Signer } = await import("@aws-sdk/rds-signer"));
      } catch (error) {
        throw new ConfigurationError(
          `IAM authentication needs @aws-sdk/rds-signer: npm install @aws-sdk/rds-signer (${(error as Error).message})`,
        );
      }
      signer = new Signer({
        hostname: target.host,
        port: target.port,
        username: target.user,
        region: options.region,
        credentials: options.credentials,
      });
    }
    return signer.getAuthToken();
  };
}
