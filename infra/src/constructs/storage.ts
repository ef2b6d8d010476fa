import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";

export interface StorageProps {
  /** Keep every version of a document. */
  versioned: boolean;
  /** Keep both buckets when the stack is removed; otherwise empty and delete them. */
  retainData: boolean;
  /** How long access logs are kept. */
  logRetentionDays: number;
}

/**
 * The documents bucket: encrypted, public access blocked, TLS only, access-logged, and moved to
 * S3 Intelligent-Tiering, since most uploads are read heavily once (processing) and rarely after.
 */
export class Storage extends Construct {
  readonly documents: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const accessLogs = new s3.Bucket(this, "AccessLogs", {
      ...secureBucket(props.retainData),
      lifecycleRules: [{ expiration: Duration.days(props.logRetentionDays) }],
    });
    this.documents = new s3.Bucket(this, "Documents", {
      ...secureBucket(props.retainData),
      versioned: props.versioned,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "documents/",
      lifecycleRules: [
        { transitions: [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(0) }] },
      ],
    });
  }
}

/** What every bucket here has: S3-managed encryption, no public access, TLS only; kept or deleted with the stack. */
export function secureBucket(retainData: boolean): s3.BucketProps {
  return {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    removalPolicy: retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    autoDeleteObjects: !retainData,
  };
}
