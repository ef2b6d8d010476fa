import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { buildApp } from "../src/app.js";

/** Both environments, built once per test file, as CloudFormation templates. */
export function templates() {
  const dev = buildApp(new App({ context: { env: "development", developerId: "ana" } })).stack;
  const prod = buildApp(new App({ context: { env: "production" } })).stack;
  return { dev, prod, devTemplate: Template.fromStack(dev), prodTemplate: Template.fromStack(prod) };
}
