import { describe, expect, it } from "vitest";
import { development, environmentConfigSchema, production, productionOverrides } from "../src/config.js";
import { withOverrides } from "../src/overrides.js";

/** Every leaf of a nested object as "a.b.c"; arrays are leaves. */
function leaves(value: unknown, prefix = ""): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { [prefix]: value };
  return Object.assign({}, ...Object.entries(value).map(([key, v]) => leaves(v, prefix ? `${prefix}.${key}` : key)));
}

describe("withOverrides", () => {
  const base = { a: 1, nested: { b: 2, c: 3 }, list: [1, 2, 3] };

  it("lays nested fields over the base and keeps the ones not given", () => {
    expect(withOverrides(base, { nested: { c: 30 } })).toEqual({ a: 1, nested: { b: 2, c: 30 }, list: [1, 2, 3] });
  });
  it("replaces arrays whole, and leaves the base as it was", () => {
    expect(withOverrides(base, { list: [9] }).list).toEqual([9]);
    expect(base).toEqual({ a: 1, nested: { b: 2, c: 3 }, list: [1, 2, 3] });
  });
  it("skips an override given as undefined", () => {
    expect(withOverrides(base, { a: undefined })).toEqual(base);
  });
});

describe("the environments", () => {
  it("Production differs from Development in exactly the fields productionOverrides lists (and its name)", () => {
    const dev = leaves(development("ana"));
    const prod = leaves(production());
    const differing = Object.keys(prod).filter((key) => JSON.stringify(prod[key]) !== JSON.stringify(dev[key]));
    expect(differing.sort()).toEqual([...Object.keys(leaves(productionOverrides)), "name", "stackName"].sort());
    for (const [key, value] of Object.entries(leaves(productionOverrides))) expect(prod[key], key).toEqual(value);
  });

  it("take the deploy's inputs (certificate, image tag, alarm email) alike", () => {
    const inputs = {
      certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
      imageTag: "v42",
      alarmEmail: "ops@example.com",
    };
    for (const config of [development("ana", inputs), production(inputs)]) {
      expect(config.compute).toMatchObject({
        certificateArn: inputs.certificateArn,
        apiImage: "sensa-learn/api:v42",
        workerImage: "sensa-learn/worker:v42",
        migrationImage: "sensa-learn/db-migrate:v42",
      });
      expect(config.alarms.email).toBe("ops@example.com");
    }
  });

  it("are validated: an override out of range fails", () => {
    expect(() => environmentConfigSchema.parse(withOverrides(production(), { cache: { nodes: 0 } }))).toThrow(/nodes/);
    expect(() =>
      environmentConfigSchema.parse(withOverrides(production(), { database: { monitoringIntervalSeconds: 7 as 5 } })),
    ).toThrow(/monitoringIntervalSeconds/);
  });
});
