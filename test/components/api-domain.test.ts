/**
 * Custom domains under the mocks: both kinds through createApiDomain (HTTP: v2 domain name
 * and API mapping; REST: v1 domain name and base path mapping), the certificate created and
 * validated in the zone or taken as given, the alias records, ServerlessApi's `domain` and
 * `domainUrl`, and every refusal of checkDomain.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { ServerlessApi } from "../../components";
import { ApiDomainArgs, basePathProblem, checkDomain, createApiDomain, domainNameProblem } from "../../components/api-domain";
import { ProblemCollector } from "../../components/validation";
import { one, ofType, RecordedResource } from "../mocks";
import { ACCOUNT, expectRefused, HELLO, recordComponent, TEST_REGION, TYPES } from "./support";

const ZONE = "Z0123456789ABCDEFGHIJ";
const CERTIFICATE = `arn:aws:acm:${TEST_REGION}:${ACCOUNT}:certificate/0a1b2c3d-1111-2222-3333-444455556666`;
const T = {
  certificate: "aws:acm/certificate:Certificate",
  validation: "aws:acm/certificateValidation:CertificateValidation",
  record: "aws:route53/record:Record",
  httpDomain: "aws:apigatewayv2/domainName:DomainName",
  apiMapping: "aws:apigatewayv2/apiMapping:ApiMapping",
  restDomain: "aws:apigateway/domainName:DomainName",
  basePathMapping: "aws:apigateway/basePathMapping:BasePathMapping",
};

/** A component to parent the domain's children, as the API components do. */
class Holder extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:index:Holder", name);
  }
}

function recordDomain(kind: "http" | "rest", args: ApiDomainArgs) {
  return recordComponent(() => {
    const holder = new Holder("holder");
    return { holder, domain: createApiDomain("api", args, { kind, apiId: "api123", stageName: kind === "http" ? "$default" : "prod" }, holder) };
  }, ({ domain }) => ({ url: domain.url, ...(domain.certificate ? { certificateArn: domain.certificate.arn } : {}) }));
}

const types = (resources: RecordedResource[]) => resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && r.type !== "test:index:Holder").map((r) => `${r.type}::${r.name}`).sort();

describe("custom domains (components/api-domain.ts)", () => {
  describe("an HTTP API domain with a hosted zone and no certificate", () => {
    let resources: RecordedResource[];
    let outputs: Record<string, any>;
    before(async () => {
      ({ resources, outputs } = await recordDomain("http", { name: "api.example.com", hostedZoneId: ZONE, basePath: "orders" }));
    });

    it("creates the certificate, its validation record and the wait, the domain name, the mapping, and A and AAAA aliases", () => {
      expect(types(resources)).to.deep.equal([
        `${T.certificate}::api-certificate`,
        `${T.validation}::api-certificate-issued`,
        `${T.record}::api-certificate-validation`,
        `${T.record}::api-alias-a`,
        `${T.record}::api-alias-aaaa`,
        `${T.httpDomain}::api-domain`,
        `${T.apiMapping}::api-mapping`,
      ].sort());
      for (const resource of resources.filter((r) => r.type.startsWith("aws:"))) expect(resource.parent, resource.name).to.match(/Holder::holder$/);
    });

    it("requests a DNS-validated certificate and writes its validation record in the zone", () => {
      expect(one(resources, T.certificate).inputs).to.deep.equal({ domainName: "api.example.com", validationMethod: "DNS" });
      const record = one(resources, T.record, "api-certificate-validation");
      expect(record.inputs).to.include({ zoneId: ZONE, type: "CNAME", ttl: 60, allowOverwrite: true });
      expect(record.inputs.name).to.match(/^_[0-9a-f]{32}\.api\.example\.com\.$/);
      expect(record.inputs.records[0]).to.match(/\.acm-validations\.aws\.$/);
      expect(one(resources, T.validation).inputs).to.deep.equal({ certificateArn: outputs.certificateArn, validationRecordFqdns: [record.inputs.name.replace(/\.$/, "")] });
    });

    it("serves a regional, dual-stack domain name with TLS 1.2 and the issued certificate, mapped to the stage at the base path", () => {
      expect(one(resources, T.httpDomain).inputs).to.deep.equal({
        domainName: "api.example.com",
        domainNameConfiguration: { certificateArn: outputs.certificateArn, endpointType: "REGIONAL", securityPolicy: "TLS_1_2", ipAddressType: "dualstack" },
      });
      expect(one(resources, T.apiMapping).inputs).to.deep.equal({ apiId: "api123", domainName: "api.example.com", stage: "$default", apiMappingKey: "orders" });
      expect(outputs.url).to.equal("https://api.example.com/orders");
    });

    it("points A and AAAA alias records at the domain name's target", () => {
      for (const type of ["A", "AAAA"]) {
        const record = one(resources, T.record, `api-alias-${type.toLowerCase()}`);
        expect(record.inputs).to.deep.equal({
          zoneId: ZONE, name: "api.example.com", type,
          aliases: [{ name: record.inputs.aliases[0].name, zoneId: "Z2FDTNDATAQYW2", evaluateTargetHealth: false }],
        });
        expect(record.inputs.aliases[0].name).to.match(/^d-[0-9a-f]{10}\.execute-api\.eu-west-1\.amazonaws\.com$/);
      }
    });
  });

  it("takes a given certificate: no certificate, validation or records without a zone", async () => {
    const { resources, outputs } = await recordDomain("http", { name: "api.example.com", certificateArn: CERTIFICATE });
    expect(types(resources)).to.deep.equal([`${T.httpDomain}::api-domain`, `${T.apiMapping}::api-mapping`].sort());
    expect(one(resources, T.httpDomain).inputs.domainNameConfiguration.certificateArn).to.equal(CERTIFICATE);
    expect(one(resources, T.apiMapping).inputs).not.to.have.property("apiMappingKey");
    expect(outputs.url).to.equal("https://api.example.com/");
  });

  it("with both a certificate and a zone, uses the certificate and still writes the alias records", async () => {
    const { resources } = await recordDomain("http", { name: "api.example.com", certificateArn: CERTIFICATE, hostedZoneId: ZONE });
    expect(ofType(resources, T.certificate)).to.have.length(0);
    expect(ofType(resources, T.record).map((r) => r.name).sort()).to.deep.equal(["api-alias-a", "api-alias-aaaa"]);
  });

  it("REST APIs: a v1 regional domain name with TLS 1.2, a base path mapping to the stage, aliases at its regional name", async () => {
    const { resources, outputs } = await recordDomain("rest", { name: "partners.example.com", hostedZoneId: ZONE, basePath: "v1" });
    expect(types(resources)).to.deep.equal([
      `${T.certificate}::api-certificate`, `${T.validation}::api-certificate-issued`, `${T.record}::api-certificate-validation`,
      `${T.record}::api-alias-a`, `${T.record}::api-alias-aaaa`, `${T.restDomain}::api-domain`, `${T.basePathMapping}::api-mapping`,
    ].sort());
    expect(one(resources, T.restDomain).inputs).to.deep.equal({
      domainName: "partners.example.com",
      regionalCertificateArn: outputs.certificateArn,
      endpointConfiguration: { types: "REGIONAL", ipAddressType: "dualstack" },
      securityPolicy: "TLS_1_2",
    });
    expect(one(resources, T.basePathMapping).inputs).to.deep.equal({ restApi: "api123", domainName: "partners.example.com", stageName: "prod", basePath: "v1" });
    expect(one(resources, T.record, "api-alias-a").inputs.aliases[0]).to.include({ zoneId: "Z2FDTNDATAQYW2" });
    expect(outputs.url).to.equal("https://partners.example.com/v1");
  });

  it("ServerlessApi: maps its $default stage and exposes domainUrl", async () => {
    const { resources, outputs } = await recordComponent(
      () => new ServerlessApi("orders-api", { routes: { "GET /x": { handler: HELLO, auth: "none" } }, domain: { name: "api.example.com", hostedZoneId: ZONE, basePath: "orders/v1" } }),
      (api) => ({ domainUrl: api.domainUrl, apiId: api.api.id }),
    );
    expect(outputs.domainUrl).to.equal("https://api.example.com/orders/v1");
    const mapping = one(resources, T.apiMapping, "orders-api-mapping");
    expect(mapping.inputs).to.deep.equal({ apiId: outputs.apiId, domainName: "api.example.com", stage: "$default", apiMappingKey: "orders/v1" });
    expect(mapping.dependencies).to.include(one(resources, TYPES.stage).urn);
    expect(mapping.parent).to.match(/ServerlessApi::orders-api$/);
  });

  describe("checkDomain", () => {
    const problemsOf = (args: ApiDomainArgs, region = TEST_REGION) => {
      const problems = new ProblemCollector();
      checkDomain(args, "domain", problems, region);
      return problems.problems.map((p) => [p.path, p.reason]);
    };

    it("accepts names up to 253 characters with labels up to 63, a leading wildcard, and multi-level base paths", () => {
      const long = `${["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(58)].join(".")}.io`;
      expect(long).to.have.length(253);
      for (const name of ["api.example.com", "*.example.com", long, "x-1.example.co.uk"]) expect(domainNameProblem(name), name).to.equal(undefined);
      for (const basePath of ["orders", "orders/v1", "a.b_c~d-e"]) expect(basePathProblem(basePath), basePath).to.equal(undefined);
      expect(problemsOf({ name: "api.example.com", certificateArn: CERTIFICATE, basePath: "orders/v1" })).to.deep.equal([]);
    });

    it("refuses long names and labels, bad labels, one label and upper case", () => {
      expect(domainNameProblem(`${"a".repeat(250)}.com`)).to.match(/^is 254 characters, above the 253 a domain name may have/);
      expect(domainNameProblem(`${"a".repeat(64)}.example.com`)).to.match(/^has the label "a{64}" of 64 characters, above 63; shorten it\.$/);
      expect(domainNameProblem("-api.example.com")).to.match(/^has the label "-api"; labels are letters, digits and "-"/);
      expect(domainNameProblem("api_x.example.com")).to.match(/^has the label "api_x"/);
      expect(domainNameProblem("localhost")).to.match(/has one label/);
      expect(domainNameProblem("Api.Example.com")).to.equal(`"Api.Example.com" has upper-case letters; write it in lower case, "api.example.com".`);
      expect(domainNameProblem("")).to.match(/is not a domain name/);
    });

    it("refuses base paths with slashes at the ends or characters outside a path segment", () => {
      expect(basePathProblem("/orders")).to.match(/^"\/orders" starts or ends with "\/"; write it without, e\.g\. "orders"\.$/);
      expect(basePathProblem("orders//v1")).to.match(/has the segment ""/);
      expect(basePathProblem("or ders")).to.match(/has the segment "or ders"/);
    });

    it("needs a certificate or a zone, a certificate ARN in the API's region, a zone id, all in one round", () => {
      expect(problemsOf({ name: "api.example.com" })).to.deep.equal([
        ["domain", "has neither certificateArn nor hostedZoneId; give the ARN of an ACM certificate for the name, or the Route 53 hosted zone to create and validate one in."],
      ]);
      const elsewhere = CERTIFICATE.replace(TEST_REGION, "us-east-1");
      expect(problemsOf({ name: "API", certificateArn: elsewhere, hostedZoneId: "zone-1", basePath: "/v1" }).map(([path]) => path)).to.deep.equal([
        "domain.name", "domain.certificateArn", "domain.hostedZoneId", "domain.basePath",
      ]);
      expect(problemsOf({ name: "api.example.com", certificateArn: elsewhere })[0][1]).to.equal(
        "is a certificate in us-east-1, but a regional endpoint serves only certificates in the API's region eu-west-1; request or import the certificate in eu-west-1, or leave it out and give hostedZoneId to have one created there.",
      );
      expect(problemsOf({ name: "api.example.com", certificateArn: "arn:aws:iam::123456789012:server-certificate/x" })[0][1]).to.match(/is not an ACM certificate ARN/);
    });

    it("ServerlessApi refuses a bad domain before registering anything, with its other problems", async () => {
      await expectRefused(() => new ServerlessApi("api", {
        routes: { "GET /x": { handler: HELLO, auth: "none" } },
        domain: { name: "api..example.com", certificateArn: CERTIFICATE.replace(TEST_REGION, "us-east-1") },
      }), "ServerlessApi", "api", [
        ["domain.name", /has the label ""/],
        ["domain.certificateArn", /regional endpoint serves only certificates in the API's region eu-west-1/],
      ]);
    });
  });
});
