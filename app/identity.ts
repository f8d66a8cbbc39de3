import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { physicalName } from "../components/naming";

/** Cognito's feature plans; threat protection (`advancedSecurityMode`) needs Plus. */
export const USER_POOL_TIERS = ["LITE", "ESSENTIALS", "PLUS"] as const;
export type UserPoolTier = (typeof USER_POOL_TIERS)[number];
/** `OFF` is not offered: every stack has at least optional MFA with an authenticator app (TOTP). */
export const MFA_MODES = ["OPTIONAL", "ON"] as const;
export type MfaMode = (typeof MFA_MODES)[number];

/** The API's resource server, its scopes, and what each one lets a token do. */
export const ORDERS_RESOURCE_SERVER = "orders";
const SCOPE_DESCRIPTIONS = { read: "Read the customer's orders", write: "Create orders for the customer" } as const;
/** The scopes the routes require, as tokens carry them: `orders/read`, `orders/write`. */
export const ORDERS_SCOPES = {
  read: `${ORDERS_RESOURCE_SERVER}/read`,
  write: `${ORDERS_RESOURCE_SERVER}/write`,
} as const satisfies Record<keyof typeof SCOPE_DESCRIPTIONS, string>;

/**
 * How long tokens live. Short access and ID tokens bound what a stolen one can do; the
 * refresh token can be revoked (`enableTokenRevocation`, the revoke endpoint) when a user signs out.
 */
export const TOKEN_VALIDITY = { accessTokenMinutes: 60, idTokenMinutes: 60, refreshTokenDays: 30, authSessionMinutes: 3 } as const;

export interface IdentitySettings {
  tier: UserPoolTier;
  mfa: MfaMode;
  /** Whether anyone may create an account; off, only administrators create users. */
  selfSignUp: boolean;
  /** Where the managed login returns the authorization code (the web app's callback). */
  callbackUrl: string;
  protectData: boolean;
}

export interface Identity {
  userPool: aws.cognito.UserPool;
  client: aws.cognito.UserPoolClient;
  resourceServer: aws.cognito.ResourceServer;
  domain: aws.cognito.UserPoolDomain;
  /** The JWT authorizer's issuer: `https://cognito-idp.<region>.amazonaws.com/<pool id>`. */
  issuer: pulumi.Output<string>;
}

/**
 * The customers' user pool and the web app's client. The API accepts only access tokens
 * that carry its scopes: Cognito issues those through the OAuth code flow (with PKCE) of
 * the managed login, never in ID tokens, so an ID token is no API credential.
 */
export function createIdentity(name: string, settings: IdentitySettings): Identity {
  const dataProtection = { protect: settings.protectData };
  const userPool = new aws.cognito.UserPool(name, {
    name: physicalName(name, 128),
    usernameAttributes: ["email"],
    autoVerifiedAttributes: ["email"],
    passwordPolicy: { minimumLength: 12, requireLowercase: true, requireUppercase: true, requireNumbers: true, requireSymbols: false, temporaryPasswordValidityDays: 3 },
    mfaConfiguration: settings.mfa,
    softwareTokenMfaConfiguration: { enabled: true },
    userPoolTier: settings.tier,
    // Compromised-credential and adaptive (risk-based) checks; only the Plus plan has them.
    userPoolAddOns: { advancedSecurityMode: settings.tier === "PLUS" ? "ENFORCED" : "OFF" },
    adminCreateUserConfig: { allowAdminCreateUserOnly: !settings.selfSignUp },
    // A changed email stays unverified (and the old one in use) until the owner confirms the code.
    userAttributeUpdateSettings: { attributesRequireVerificationBeforeUpdates: ["email"] },
    accountRecoverySetting: { recoveryMechanisms: [{ name: "verified_email", priority: 1 }] },
    deletionProtection: settings.protectData ? "ACTIVE" : "INACTIVE",
  }, dataProtection);

  const resourceServer = new aws.cognito.ResourceServer(`${name}-api`, {
    userPoolId: userPool.id,
    identifier: ORDERS_RESOURCE_SERVER,
    name: "orders API",
    scopes: Object.entries(SCOPE_DESCRIPTIONS).map(([scopeName, scopeDescription]) => ({ scopeName, scopeDescription })),
  });

  // Domain prefixes are global per region: the account id keeps ours free of collisions.
  const account = aws.getCallerIdentityOutput().accountId;
  const domain = new aws.cognito.UserPoolDomain(`${name}-login`, {
    userPoolId: userPool.id,
    domain: pulumi.interpolate`${physicalName("login", 50).toLowerCase()}-${account}`,
  });

  // Its name predates this module: a new one would replace the client and change its id.
  const client = new aws.cognito.UserPoolClient("orders-web", {
    userPoolId: userPool.id,
    // A browser app keeps no secret; the code flow uses PKCE instead.
    generateSecret: false,
    allowedOauthFlowsUserPoolClient: true,
    allowedOauthFlows: ["code"],
    allowedOauthScopes: ["openid", "email", ...Object.values(ORDERS_SCOPES)],
    callbackUrls: [settings.callbackUrl],
    supportedIdentityProviders: ["COGNITO"],
    // No SRP or password flows: their access tokens carry no API scope.
    explicitAuthFlows: ["ALLOW_REFRESH_TOKEN_AUTH"],
    preventUserExistenceErrors: "ENABLED",
    enableTokenRevocation: true,
    accessTokenValidity: TOKEN_VALIDITY.accessTokenMinutes,
    idTokenValidity: TOKEN_VALIDITY.idTokenMinutes,
    refreshTokenValidity: TOKEN_VALIDITY.refreshTokenDays,
    tokenValidityUnits: { accessToken: "minutes", idToken: "minutes", refreshToken: "days" },
    authSessionValidity: TOKEN_VALIDITY.authSessionMinutes,
  }, { dependsOn: [resourceServer] });

  return { userPool, client, resourceServer, domain, issuer: pulumi.interpolate`https://${userPool.endpoint}` };
}
