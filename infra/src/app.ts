import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { development, production, type DeployInputs, type EnvironmentConfig } from "./config.js";
import { acknowledgeFindings } from "./nag-acknowledgements.js";
import { PlatformStack } from "./stacks/platform-stack.js";

/**
 * Builds the CDK app for `-c env=development -c developerId=<id>` or `-c env=production`,
 * with cdk-nag's AwsSolutions checks run at synthesis.
 */
export function buildApp(app: App = new App()): { app: App; stack: PlatformStack } {
  const ctx = (key: string) => app.node.tryGetContext(key) as string | undefined;
  const env = ctx("env");
  const inputs: DeployInputs = {
    certificateArn: ctx("certificateArn"),
    imageTag: ctx("imageTag"),
    alarmEmail: ctx("alarmEmail"),
  };
  let config: EnvironmentConfig;
  if (env === "development") {
    const developerId = ctx("developerId");
    if (!developerId) throw new Error("development needs a developer id: -c developerId=<you>");
    config = development(developerId, inputs);
  } else if (env === "production") {
    config = production(inputs);
  } else {
    throw new Error(`-c env=development or -c env=production (got ${env ?? "nothing"})`);
  }
  const stack = new PlatformStack(app, config, { env: { account: process.env.CDK_DEFAULT_ACCOUNT } });
  acknowledgeFindings(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
