import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import type { EnvironmentConfig } from "../config.js";

/**
 * The documents bucket: encrypted, public access blocked, TLS only, access-logged, and moved to
 * S3 Intelligent-Tiering, since most uploads are read heavily once (processing) and rarely after.
 */
export class Storage extends Construct {
  readonly documents: s3.Bucket;

  constructor(scope: Construct, id: string, config: EnvironmentConfig) {
    super(scope, id);
    const production = config.name === "production";
    const accessLogs = new s3.Bucket(this, "AccessLogs", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(config.logRetentionDays) }],
      removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !production,
    });
    this.documents = new s3.Bucket(this, "Documents", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: production,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "documents/",
      lifecycleRules: [{ transitions: [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(0) }] }],
      removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !production,
    });
  }
}
