/**
 * JWT authorization as an HTTP API JWT authorizer does it: a bearer token in the
 * Authorization header, signature checked against the issuer's keys, `iss` equal to the
 * configured issuer, `aud` (or, for Cognito access tokens, `client_id`) among the configured
 * audiences, `exp` present and in the future, `nbf` and `iat` (when present) not in the
 * future, with no clock skew allowed (API Gateway documents none), and the route's scopes
 * (any one of them) in `scope`. Verification is jose's.
 *
 * Locally the keys are those of a signing key the runtime makes (or keeps in .local/), so
 * `npm run dev` can print a working token; when a JWKS URL is configured, tokens of the real
 * issuer are accepted instead.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { createLocalJWKSet, createRemoteJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from "jose";

const ALGORITHM = "ES256";
type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

export interface JwtConfig {
  issuer: string;
  audiences: string[];
  /** Accept a token of any app client (a REST API's Cognito user pools authorizer checks no audience). */
  anyAudience?: boolean;
}

export type AuthorizationResult =
  | { ok: true; claims: JWTPayload; scopes: string[] }
  | { ok: false; status: 401 | 403; reason: string };

type KeySource = Parameters<typeof jwtVerify>[1];

/** Checks tokens for one authorizer. */
export class JwtAuthorizer {
  constructor(readonly config: JwtConfig, private readonly keys: KeySource) {}

  async authorize(authorization: string | undefined, requiredScopes: string[]): Promise<AuthorizationResult> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match) return { ok: false, status: 401, reason: authorization ? "Authorization is not \"Bearer <token>\"" : "no Authorization header" };
    return this.verify(match[1], requiredScopes);
  }

  /** Checks one token (signature, issuer, times, audience unless `anyAudience`, scopes). */
  async verify(token: string, requiredScopes: string[]): Promise<AuthorizationResult> {
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.keys as any, { issuer: this.config.issuer, requiredClaims: ["exp"] }));
    } catch (error) {
      return { ok: false, status: 401, reason: `token rejected: ${(error as Error).message}` };
    }
    // jose checks iat only against a maximum age; API Gateway also refuses a token issued in the future.
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.iat === "number" && claims.iat > now) {
      return { ok: false, status: 401, reason: `token rejected: "iat" claim ${claims.iat} is in the future (now ${now})` };
    }
    const audiences = [claims.aud ?? []].flat();
    const clientId = typeof claims.client_id === "string" ? [claims.client_id] : [];
    const presented = audiences.length > 0 ? audiences : clientId;
    if (!this.config.anyAudience && !presented.some((audience) => this.config.audiences.includes(audience))) {
      return { ok: false, status: 401, reason: `token audience ${JSON.stringify(presented)} is not one of ${JSON.stringify(this.config.audiences)}` };
    }
    const scopes = typeof claims.scope === "string" ? claims.scope.split(" ").filter(Boolean) : Array.isArray(claims.scp) ? claims.scp.map(String) : [];
    if (requiredScopes.length > 0 && !requiredScopes.some((scope) => scopes.includes(scope))) {
      return { ok: false, status: 403, reason: `token has none of the scopes ${requiredScopes.join(", ")}` };
    }
    return { ok: true, claims, scopes };
  }
}

/** Accepts tokens of a real issuer, checked against its JWKS (e.g. Cognito's `<issuer>/.well-known/jwks.json`). */
export function remoteAuthorizer(config: JwtConfig, jwksUrl: string): JwtAuthorizer {
  return new JwtAuthorizer(config, createRemoteJWKSet(new URL(jwksUrl)));
}

/** A local signing key that issues tokens shaped like Cognito access tokens. */
export class LocalIssuer {
  private constructor(private readonly privateKey: SigningKey, readonly publicJwk: JWK) {}

  /** A new key, or the one kept in `file` (created there when missing; keep the folder git-ignored). */
  static async create(file?: string): Promise<LocalIssuer> {
    if (file && fs.existsSync(file)) {
      const stored = JSON.parse(fs.readFileSync(file, "utf8")) as { privateJwk: JWK; publicJwk: JWK };
      return new LocalIssuer((await importJWK(stored.privateJwk, ALGORITHM)) as SigningKey, stored.publicJwk);
    }
    const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALGORITHM, use: "sig" };
    if (file) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify({ privateJwk: { ...(await exportJWK(privateKey)), kid, alg: ALGORITHM }, publicJwk }), { mode: 0o600 });
    }
    return new LocalIssuer(privateKey, publicJwk);
  }

  authorizer(config: JwtConfig): JwtAuthorizer {
    return new JwtAuthorizer(config, createLocalJWKSet({ keys: [this.publicJwk] }));
  }

  /** An access token for `config` (issuer, first audience as client_id) with `scopes`, or an ID token (`tokenUse: "id"`). */
  async issue(config: JwtConfig, options: { subject?: string; scopes?: string[]; expiresIn?: string | number; issuer?: string; audience?: string; tokenUse?: "access" | "id" } = {}): Promise<string> {
    const subject = options.subject ?? "local-developer";
    const clientId = options.audience ?? config.audiences[0] ?? "local-client";
    // Cognito's ID tokens name the app client in `aud` and carry no scopes.
    const claims = options.tokenUse === "id"
      ? { aud: clientId, token_use: "id", "cognito:username": subject }
      : { client_id: clientId, token_use: "access", scope: (options.scopes ?? []).join(" "), username: subject };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: ALGORITHM, kid: this.publicJwk.kid })
      .setIssuer(options.issuer ?? config.issuer)
      .setSubject(subject)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(options.expiresIn ?? "12h")
      .sign(this.privateKey);
  }
}
