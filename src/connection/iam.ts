import type { SignerConfig } from "@aws-sdk/rds-signer";
import type { ConnectionTarget } from "./target.js";

export interface IamAuthOptions {
  /** Defaults to the runtime's region (`AWS_REGION`, which ECS sets). */
  region?: string;
  /** Defaults to the AWS SDK's provider chain (the ECS task role). */
  credentials?: SignerConfig["credentials"];
}

/**
 * The pool's password function for RDS IAM authentication: each new connection gets a freshly
 * signed token (valid 15 minutes, and only used at login, so a long-lived pooled connection is
 * unaffected by its expiry). Signing is local, with no network call once credentials are known.
 * The SDK is imported on first use, so services that use passwords never load it.
 */
export function iamPassword(target: ConnectionTarget, options: IamAuthOptions = {}): () => Promise<string> {
  let signer: { getAuthToken(): Promise<string> } | undefined;
  return async () => {
    if (!signer) {
      const { Signer } = await import("@aws-sdk/rds-signer");
      signer = new Signer({ hostname: target.host, port: target.port, username: target.user, region: options.region, credentials: options.credentials });
    }
    return signer.getAuthToken();
  };
}
