import { App } from "aws-cdk-lib";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { buildApp } from "../src/app.js";

// cdk-nag's AwsSolutions checks run as a CDK validation plugin: app.synth() throws
// (listing the findings) on any finding that src/nag-acknowledgements.ts does not acknowledge.
beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
  vi.spyOn(console, "error").mockImplementation(() => undefined);
});
afterEach(() => vi.restoreAllMocks());

describe.each([
  ["development", { env: "development", developerId: "ci" }],
  ["production", { env: "production" }],
])("the %s environment", (_, context) => {
  // A whole synthesis with every check: ~30 s alone, several times that on a busy 2-core machine.
  it("synthesizes offline with no unacknowledged cdk-nag AwsSolutions finding", { timeout: 240_000 }, () => {
    const { app } = buildApp(new App({ context }));
    expect(() => app.synth()).not.toThrow();
  });
});

describe("cdk-nag", () => {
  it("fails synthesis on a finding nobody acknowledged (an unencrypted, unlogged bucket)", () => {
    const app = new App({ context: { env: "development", developerId: "ci" } });
    const { stack } = buildApp(app);
    new Bucket(stack, "Careless");
    expect(() => app.synth()).toThrow(/Careless[\s\S]*\(AwsSolutions\)|\(AwsSolutions\)[\s\S]*Careless/);
  });
});
