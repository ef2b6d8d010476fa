import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, it } from "vitest";
import { Storage, type StorageProps } from "../../src/constructs/storage.js";

function storage(props: StorageProps): Template {
  const stack = new Stack(new App(), "Test");
  new Storage(stack, "Storage", props);
  return Template.fromStack(stack);
}

describe("Storage", () => {
  let kept: Template;
  let disposable: Template;
  beforeAll(() => {
    kept = storage({ versioned: true, retainData: true, logRetentionDays: 30 });
    disposable = storage({ versioned: false, retainData: false, logRetentionDays: 7 });
  });

  it("with retainData keeps both buckets on removal and never empties them", () => {
    const t = kept;
    t.resourceCountIs("AWS::S3::Bucket", 2);
    t.allResources("AWS::S3::Bucket", { DeletionPolicy: "Retain" });
    t.resourceCountIs("Custom::S3AutoDeleteObjects", 0);
    t.hasResourceProperties("AWS::S3::Bucket", { VersioningConfiguration: { Status: "Enabled" } });
  });

  it("without it, empties and deletes both (a disposable stack), unversioned", () => {
    const t = disposable;
    t.allResources("AWS::S3::Bucket", { DeletionPolicy: "Delete" });
    t.resourceCountIs("Custom::S3AutoDeleteObjects", 2);
    t.allResourcesProperties("AWS::S3::Bucket", { VersioningConfiguration: Match.absent() });
  });

  it("expires access logs after the log retention", () => {
    disposable.hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 7 })] },
    });
  });
});
