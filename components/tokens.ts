import * as pulumi from "@pulumi/pulumi";

/**
 * The Pulumi package name. Pulumi's Node.js component provider host names the package
 * after the npm name without its scope (`@orders-platform/serverless-components`), and a
 * component's type token must start with it, or other languages cannot construct it.
 */
export const PACKAGE_NAME = "serverless-components";

/** The package name in the type tokens before 1.0.0. */
export const LEGACY_PACKAGE_NAME = "serverless";

/** The type token of one of our components, e.g. `serverless-components:index:QueueWorker`. */
export function componentType(className: string): string {
  return `${PACKAGE_NAME}:index:${className}`;
}

/**
 * `opts` plus an alias to the type token the component had before 1.0.0, so stacks
 * deployed with `serverless:index:<Class>` keep the component's URN and, through the
 * parent, every child's: upgrading replaces nothing.
 */
export function withLegacyTypeAlias(className: string, opts: pulumi.ComponentResourceOptions | undefined): pulumi.ComponentResourceOptions {
  return { ...opts, aliases: [...(opts?.aliases ?? []), { type: `${LEGACY_PACKAGE_NAME}:index:${className}` }] };
}
