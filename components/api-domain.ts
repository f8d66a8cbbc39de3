// A custom domain name in front of an API Gateway API, for both kinds: HTTP APIs (v2 domain
// name and API mapping) and REST APIs (v1 domain name and base path mapping). The ACM
// certificate is taken, or created with DNS validation in the hosted zone; the alias records
// go in the zone when one is given. Regional endpoints, TLS 1.2.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ARN_PARTITION } from "./arns";
import { CUSTOM_DOMAIN_LIMITS } from "./limits";
import { ProblemCollector } from "./validation";

/** A custom domain name for an API. */
export interface ApiDomainArgs {
  /** The domain name callers use, e.g. `api.example.com`. */
  name: string;
  /**
   * An ACM certificate for `name` in the API's region (a regional endpoint serves only
   * those). Without it, `hostedZoneId` must be given and a certificate is created.
   * @default none: a certificate validated by DNS in `hostedZoneId`
   */
  certificateArn?: pulumi.Input<string>;
  /**
   * The Route 53 hosted zone of `name`: the certificate's validation record (when the
   * component creates it) and the alias A and AAAA records go there.
   * @default none: point your DNS at the domain name's target yourself
   */
  hostedZoneId?: pulumi.Input<string>;
  /**
   * The path under the domain the API is served at, e.g. `orders` or `orders/v1`.
   * @default none: the API at the domain's root
   */
  basePath?: string;
}

/** Which API the domain maps to. */
export interface ApiDomainTarget {
  kind: "http" | "rest";
  /** The API's id (a REST API's id for `rest`). */
  apiId: pulumi.Input<string>;
  /** The stage the domain serves; passing the stage's own output orders the mapping after it. */
  stageName: pulumi.Input<string>;
}

/** The children of a custom domain. */
export interface ApiDomainResources {
  /** The certificate, when the component created it. */
  certificate?: aws.acm.Certificate;
  /** Its DNS validation record in the hosted zone. */
  validationRecord?: aws.route53.Record;
  /** The wait until ACM has issued the certificate. */
  certificateValidation?: aws.acm.CertificateValidation;
  domainName: aws.apigatewayv2.DomainName | aws.apigateway.DomainName;
  mapping: aws.apigatewayv2.ApiMapping | aws.apigateway.BasePathMapping;
  /** The alias A and AAAA records, when a hosted zone is given. */
  records: aws.route53.Record[];
  /** `https://<name>/<basePath>`. */
  url: pulumi.Output<string>;
}

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const CERTIFICATE_ARN = new RegExp(`^arn:${ARN_PARTITION}:acm:([a-z0-9-]+):\\d{12}:certificate/[A-Za-z0-9-]+$`);
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const BASE_PATH_SEGMENT = /^[A-Za-z0-9._~-]+$/;

/** Why `name` cannot be a custom domain name, or undefined. */
export function domainNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string" || name === "") return `${JSON.stringify(name)} is not a domain name; write e.g. "api.example.com".`;
  const { nameLength, labelLength } = CUSTOM_DOMAIN_LIMITS;
  if (name.length > nameLength) return `is ${name.length} characters, above the ${nameLength} a domain name may have; use a shorter name.`;
  if (name !== name.toLowerCase()) return `${JSON.stringify(name)} has upper-case letters; write it in lower case, ${JSON.stringify(name.toLowerCase())}.`;
  const labels = name.replace(/^\*\./, "").split(".");
  if (labels.length < 2) return `${JSON.stringify(name)} has one label; a custom domain name is a full name, e.g. "api.example.com".`;
  for (const label of labels) {
    if (label.length > labelLength) return `has the label ${JSON.stringify(label)} of ${label.length} characters, above ${labelLength}; shorten it.`;
    if (!LABEL.test(label)) return `has the label ${JSON.stringify(label)}; labels are letters, digits and "-", not starting or ending with "-" (a leading "*." is the only wildcard).`;
  }
  return undefined;
}

/** Why `basePath` is not an API mapping key, or undefined. */
export function basePathProblem(basePath: string): string | undefined {
  if (basePath.startsWith("/") || basePath.endsWith("/")) return `${JSON.stringify(basePath)} starts or ends with "/"; write it without, e.g. ${JSON.stringify(basePath.replace(/^\/+|\/+$/g, "") || "orders")}.`;
  const bad = basePath.split("/").find((segment) => !BASE_PATH_SEGMENT.test(segment));
  if (bad !== undefined) return `${JSON.stringify(basePath)} has the segment ${JSON.stringify(bad)}; use letters, digits and . _ ~ - in segments separated by "/", e.g. "orders/v1".`;
  return undefined;
}

/** Why `arn` is not an ACM certificate a regional endpoint in `region` can serve, or undefined. */
export function certificateArnProblem(arn: unknown, region: string | undefined): string | undefined {
  const match = typeof arn === "string" ? CERTIFICATE_ARN.exec(arn) : null;
  if (!match) return `${JSON.stringify(arn)} is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>); pass certificate.arn, or leave it out and give hostedZoneId to have one created.`;
  if (region && match[1] !== region) {
    return `is a certificate in ${match[1]}, but a regional endpoint serves only certificates in the API's region ${region}; request or import the certificate in ${region}, or leave it out and give hostedZoneId to have one created there.`;
  }
  return undefined;
}

/** Adds every problem of a custom domain under `at` (e.g. `domain`); `region` is the API's. */
export function checkDomain(args: ApiDomainArgs, at: string, problems: ProblemCollector, region: string | undefined = new pulumi.Config("aws").get("region")): void {
  const nameProblem = domainNameProblem(args.name);
  if (nameProblem) problems.add(`${at}.name`, nameProblem);
  if (args.certificateArn === undefined && args.hostedZoneId === undefined) {
    problems.add(at, "has neither certificateArn nor hostedZoneId; give the ARN of an ACM certificate for the name, or the Route 53 hosted zone to create and validate one in.");
  }
  if (typeof args.certificateArn === "string") {
    const problem = certificateArnProblem(args.certificateArn, region);
    if (problem) problems.add(`${at}.certificateArn`, problem);
  }
  if (typeof args.hostedZoneId === "string" && !HOSTED_ZONE_ID.test(args.hostedZoneId)) {
    problems.add(`${at}.hostedZoneId`, `${JSON.stringify(args.hostedZoneId)} is not a Route 53 hosted zone id (Z followed by letters and digits, e.g. "Z0123456789ABCDEFGHIJ"); pass zone.zoneId.`);
  }
  if (args.basePath !== undefined) {
    const problem = basePathProblem(args.basePath);
    if (problem) problems.add(`${at}.basePath`, problem);
  }
}

/** `https://<name>/<basePath>`: where the API answers on its custom domain. */
export function domainUrl(args: ApiDomainArgs): string {
  return `https://${args.name}/${args.basePath ?? ""}`;
}

/**
 * Creates the custom domain of a checked `args` (see {@link checkDomain}) for the API
 * `target`: the certificate and its validation when none is given, the domain name, the
 * mapping, and the alias records when a zone is given.
 */
export function createApiDomain(name: string, args: ApiDomainArgs, target: ApiDomainTarget, parent: pulumi.Resource): ApiDomainResources {
  const opts = { parent };
  let certificateArn: pulumi.Input<string>;
  let certificate: aws.acm.Certificate | undefined;
  let validationRecord: aws.route53.Record | undefined;
  let certificateValidation: aws.acm.CertificateValidation | undefined;
  if (args.certificateArn !== undefined) {
    certificateArn = args.certificateArn;
  } else {
    certificate = new aws.acm.Certificate(`${name}-certificate`, { domainName: args.name, validationMethod: "DNS" }, opts);
    // One name, so one validation option: no resource needs to be created inside an apply.
    const option = certificate.domainValidationOptions[0];
    validationRecord = new aws.route53.Record(`${name}-certificate-validation`, {
      zoneId: args.hostedZoneId!,
      name: option.resourceRecordName,
      type: option.resourceRecordType,
      records: [option.resourceRecordValue],
      ttl: 60,
      allowOverwrite: true,
    }, opts);
    certificateValidation = new aws.acm.CertificateValidation(`${name}-certificate-issued`, {
      certificateArn: certificate.arn,
      validationRecordFqdns: [validationRecord.fqdn],
    }, opts);
    // The domain name waits for the issued certificate, not merely the requested one.
    certificateArn = certificateValidation.certificateArn;
  }

  const { securityPolicy } = CUSTOM_DOMAIN_LIMITS;
  let domainName: ApiDomainResources["domainName"];
  let mapping: ApiDomainResources["mapping"];
  let alias: { name: pulumi.Output<string | undefined>; zoneId: pulumi.Output<string | undefined> };
  if (target.kind === "http") {
    const domain = new aws.apigatewayv2.DomainName(`${name}-domain`, {
      domainName: args.name,
      domainNameConfiguration: { certificateArn, endpointType: "REGIONAL", securityPolicy, ipAddressType: "dualstack" },
    }, opts);
    mapping = new aws.apigatewayv2.ApiMapping(`${name}-mapping`, {
      apiId: target.apiId,
      domainName: domain.id,
      stage: target.stageName,
      apiMappingKey: args.basePath,
    }, opts);
    alias = { name: domain.domainNameConfiguration.targetDomainName, zoneId: domain.domainNameConfiguration.hostedZoneId };
    domainName = domain;
  } else {
    const domain = new aws.apigateway.DomainName(`${name}-domain`, {
      domainName: args.name,
      regionalCertificateArn: certificateArn,
      endpointConfiguration: { types: "REGIONAL", ipAddressType: "dualstack" },
      securityPolicy,
    }, opts);
    mapping = new aws.apigateway.BasePathMapping(`${name}-mapping`, {
      restApi: target.apiId,
      domainName: domain.domainName,
      stageName: target.stageName,
      basePath: args.basePath,
    }, opts);
    alias = { name: domain.regionalDomainName, zoneId: domain.regionalZoneId };
    domainName = domain;
  }

  const records = args.hostedZoneId === undefined ? [] : (["A", "AAAA"] as const).map((type) =>
    new aws.route53.Record(`${name}-alias-${type.toLowerCase()}`, {
      zoneId: args.hostedZoneId!,
      name: args.name,
      type,
      aliases: [{ name: alias.name.apply((n) => n!), zoneId: alias.zoneId.apply((z) => z!), evaluateTargetHealth: false }],
    }, opts));

  return { certificate, validationRecord, certificateValidation, domainName, mapping, records, url: pulumi.output(domainUrl(args)) };
}
