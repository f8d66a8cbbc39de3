/**
 * IAM (SigV4) authorization of API Gateway routes for the local runtime: local principals
 * with access keys the runtime prints, and a verifier that recomputes each request's
 * signature with the SDK's own signer (`@smithy/signature-v4`), as API Gateway does.
 *
 * Checked, in API Gateway's order and with its messages (all 403): an `Authorization`
 * header `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` (none: the
 * caller's "missing token" answer); `X-Amz-Date` present, within 5 minutes of now, and the
 * day of the credential scope; the scope's region (the runtime's) and service
 * (`execute-api`); `host` among the signed headers; a known access key; an
 * `X-Amz-Content-SHA256`, when sent, equal to the body's hash; then the signature over the
 * method, path, query, the signed headers and the body's hash.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";
import { TRUSTED_PRINCIPAL_ARN } from "../handlers/lib/principals";

export const SIGV4_SERVICE = "execute-api";

/** API Gateway refuses a signature dated more than 5 minutes from its clock, either way. */
const SIGNATURE_WINDOW_MS = 5 * 60 * 1000;

/** The session name of a local role principal's credentials (its `userArn` is the session's). */
const LOCAL_SESSION_NAME = "local";

/** The principal `npm run dev` always defines, in the given account. */
export const defaultPrincipalArn = (accountId: string) => `arn:aws:iam::${accountId}:role/local-service`;

/** What API Gateway knows of a verified caller: the fields of `authorizer.iam` (2.0) and `identity` (1.0). */
export interface IamIdentity {
  accessKey: string;
  accountId: string;
  /** The role session's or the user's ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>` for a role). */
  userArn: string;
  /** `AROA...:<session>` for a role session, `AIDA...` for a user; API Gateway's `callerId` / `caller` too. */
  userId: string;
}

export interface LocalPrincipal {
  /** The IAM role or user the keys stand for. */
  arn: string;
  accessKeyId: string;
  secretAccessKey: string;
  identity: IamIdentity;
}

/** `n` characters of AWS's key alphabet (A-Z, 2-7), derived from `seed`. */
function keyCharacters(seed: string, n: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return [...createHash("sha256").update(seed).digest()].slice(0, n).map((byte) => alphabet[byte % 32]).join("");
}

/**
 * A local principal for an IAM role or user ARN. Its keys derive from the ARN, so they stay
 * the same across restarts (they guard nothing: the endpoints answer loopback only); a
 * role's keys are a session's (`ASIA...`), a user's long-term (`AKIA...`), as on AWS.
 */
export function localPrincipal(arn: string): LocalPrincipal {
  const match = TRUSTED_PRINCIPAL_ARN.exec(arn);
  if (!match) throw new Error(`${JSON.stringify(arn)} is not an IAM role or user ARN (arn:aws:iam::<account>:role/<name> or arn:aws:iam::<account>:user/<name>).`);
  const [, partition, accountId, kind, , name] = match;
  const role = kind === "role";
  const accessKeyId = `${role ? "ASIA" : "AKIA"}${keyCharacters(`key:${arn}`, 16)}`;
  const secretAccessKey = createHash("sha256").update(`secret:${arn}`).digest("base64").slice(0, 40);
  const uniqueId = `${role ? "AROA" : "AIDA"}${keyCharacters(`id:${arn}`, 17)}`;
  const identity: IamIdentity = role
    ? { accessKey: accessKeyId, accountId, userArn: `arn:${partition}:sts::${accountId}:assumed-role/${name}/${LOCAL_SESSION_NAME}`, userId: `${uniqueId}:${LOCAL_SESSION_NAME}` }
    : { accessKey: accessKeyId, accountId, userArn: arn, userId: uniqueId };
  return { arn, accessKeyId, secretAccessKey, identity };
}

/** What the verifier reads of a request, as it arrived. */
export interface SignedRequest {
  method: string;
  /** Path and query as received (`request.url`). */
  url: string;
  /** Node's rawHeaders: name/value pairs. */
  rawHeaders: string[];
  body: Buffer;
}

export type SigV4Verdict =
  | { ok: true; principal: LocalPrincipal }
  /** `unsigned`: no SigV4 Authorization header at all (HTTP and REST APIs answer it differently). */
  | { ok: false; unsigned: boolean; message: string; reason: string; errorType: SigV4ErrorType };

/** API Gateway's `x-amzn-ErrorType` for each refusal. */
export type SigV4ErrorType = "MissingAuthenticationTokenException" | "IncompleteSignatureException" | "InvalidSignatureException" | "UnrecognizedClientException";

const SIGNATURE_MISMATCH = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/** `20260101T000000Z` for a date. */
const amzDate = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, "");

export class SigV4Verifier {
  private readonly byKey: Map<string, LocalPrincipal>;

  constructor(readonly principals: LocalPrincipal[], readonly region: string, private readonly now: () => number = Date.now) {
    this.byKey = new Map(principals.map((p) => [p.accessKeyId, p]));
  }

  async verify(request: SignedRequest): Promise<SigV4Verdict> {
    const headers = new Map<string, string>();
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
      const name = request.rawHeaders[i].toLowerCase();
      headers.set(name, headers.has(name) ? `${headers.get(name)},${request.rawHeaders[i + 1]}` : request.rawHeaders[i + 1]);
    }
    const authorization = headers.get("authorization") ?? "";
    if (!authorization.startsWith("AWS4-HMAC-SHA256 ")) {
      return { ok: false, unsigned: true, message: "Missing Authentication Token", reason: authorization ? "Authorization is not AWS4-HMAC-SHA256" : "no Authorization header", errorType: "MissingAuthenticationTokenException" };
    }
    const refuse = (errorType: SigV4ErrorType, message: string, reason = message): SigV4Verdict => ({ ok: false, unsigned: false, message, reason, errorType });
    const incomplete = (message: string, reason?: string) => refuse("IncompleteSignatureException", message, reason);
    const invalid = (message: string, reason?: string) => refuse("InvalidSignatureException", message, reason);
    const parts = Object.fromEntries(authorization.slice(17).split(",").map((part) => part.trim().split(/=(.*)/s).slice(0, 2)));
    const missing = ["Credential", "Signature", "SignedHeaders"].filter((name) => !parts[name]);
    if (missing.length > 0) return incomplete(`${missing.map((name) => `Authorization header requires '${name}' parameter.`).join(" ")} Authorization=${authorization}`);
    const date = headers.get("x-amz-date");
    if (!date || !/^\d{8}T\d{6}Z$/.test(date)) return incomplete(`Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${authorization}`, "no X-Amz-Date header (the local runtime reads the date from X-Amz-Date only)");
    const signedAt = Date.parse(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13)}`);
    const now = this.now();
    if (signedAt < now - SIGNATURE_WINDOW_MS) return invalid(`Signature expired: ${date} is now earlier than ${amzDate(now - SIGNATURE_WINDOW_MS)} (${amzDate(now)} - 5 min.)`);
    if (signedAt > now + SIGNATURE_WINDOW_MS) return invalid(`Signature not yet current: ${date} is still later than ${amzDate(now + SIGNATURE_WINDOW_MS)} (${amzDate(now)} + 5 min.)`);

    const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = String(parts.Credential).split("/");
    if (terminator !== "aws4_request") return invalid(`Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator ?? ""}'. `);
    if (scopeDate !== date.slice(0, 8)) return invalid(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${date.slice(0, 8)}', from '${date}'.`);
    if (scopeService !== SIGV4_SERVICE) return invalid(`Credential should be scoped to correct service: '${SIGV4_SERVICE}'. `);
    if (scopeRegion !== this.region) return invalid(`Credential should be scoped to a valid region, not '${scopeRegion}'. `, `credential scoped to ${scopeRegion}; the local runtime's region is ${this.region}`);
    const signedHeaders = String(parts.SignedHeaders).split(";");
    if (!signedHeaders.includes("host")) return incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    const principal = this.byKey.get(accessKeyId);
    if (!principal) return refuse("UnrecognizedClientException", "The security token included in the request is invalid.", `unknown access key ${accessKeyId}; the local principals' keys are in the banner`);

    const bodyHash = createHash("sha256").update(request.body).digest("hex");
    const claimedHash = headers.get("x-amz-content-sha256");
    // The signer trusts this header for the payload's hash; the body must match it.
    if (claimedHash !== undefined && claimedHash !== bodyHash) return invalid(SIGNATURE_MISMATCH, "X-Amz-Content-SHA256 is not the body's hash");

    const queryAt = request.url.indexOf("?");
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(queryAt === -1 ? "" : request.url.slice(queryAt + 1))) {
      const previous = query[key];
      query[key] = previous === undefined ? value : [previous, value].flat();
    }
    const signer = new SignatureV4({ service: SIGV4_SERVICE, region: this.region, credentials: principal, sha256: Sha256, applyChecksum: false });
    const expected = await signer.sign({
      method: request.method,
      protocol: "http:",
      hostname: headers.get("host") ?? "",
      path: queryAt === -1 ? request.url : request.url.slice(0, queryAt),
      query,
      headers: Object.fromEntries(signedHeaders.filter((name) => headers.has(name)).map((name) => [name, headers.get(name)!])),
      body: request.body,
    }, { signingDate: new Date(signedAt), signableHeaders: new Set(signedHeaders) });
    const given = Buffer.from(String(parts.Signature));
    const computed = Buffer.from(/Signature=([0-9a-f]+)/.exec(String(expected.headers.authorization))?.[1] ?? "");
    if (given.length !== computed.length || !timingSafeEqual(given, computed)) {
      return invalid(SIGNATURE_MISMATCH, `signature mismatch for ${principal.arn} (wrong secret, or the request changed after signing)`);
    }
    return { ok: true, principal };
  }
}
