import * as pulumi from "@pulumi/pulumi";

/** One problem with a component's arguments: where it is and what to do about it. */
export interface ArgumentProblem {
  /** The argument's path, e.g. `routes["GET /orders"].timeout`. */
  readonly path: string;
  /** What is wrong, with the value, the allowed range and the fix. */
  readonly reason: string;
}

/**
 * Every problem found in a component's arguments, thrown once before any resource is
 * registered so a user can fix all of them in one round.
 */
export class ComponentArgumentsError extends Error {
  constructor(
    readonly component: string,
    readonly resourceName: string,
    readonly problems: readonly ArgumentProblem[],
  ) {
    super(
      `${component} "${resourceName}" has invalid arguments:\n` +
        problems.map((p) => `  - ${p.path}: ${p.reason}`).join("\n"),
    );
    this.name = "ComponentArgumentsError";
  }
}

/** Collects problems; `throwIfAny` raises them together. */
export class ProblemCollector {
  readonly problems: ArgumentProblem[] = [];

  add(path: string, reason: string): void {
    this.problems.push({ path, reason });
  }

  /** Checks an optional whole number against an inclusive range. */
  integerInRange(path: string, value: number | undefined, min: number, max: number, unit = ""): void {
    if (value === undefined) return;
    const shown = unit ? `${value} ${unit}` : `${value}`;
    if (!Number.isInteger(value)) {
      this.add(path, `${shown} is not a whole number; use a whole number from ${min} to ${max}${unit ? ` ${unit}` : ""}.`);
    } else if (value < min || value > max) {
      this.add(path, `${shown} is outside ${min}-${max}${unit ? ` ${unit}` : ""}; use a value in that range.`);
    }
  }

  /** Checks an optional value against a list of allowed choices. */
  oneOf<T>(path: string, value: T | undefined, allowed: readonly T[]): void {
    if (value === undefined || allowed.includes(value)) return;
    this.add(path, `${JSON.stringify(value)} is not allowed; use one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}.`);
  }

  throwIfAny(component: string, resourceName: string): void {
    if (this.problems.length > 0) throw new ComponentArgumentsError(component, resourceName, this.problems);
  }
}

/**
 * Checks a component's argument values that are known only once they resolve (Outputs),
 * with the same message a construction-time problem gets: component, argument, fix.
 *
 * A problem found then fails the deployment the way a Pulumi program fails after
 * construction, by an unhandled error: a `ResourceError` with the stack hidden, which the
 * language host reports once, against the component, and exits non-zero. The value itself
 * never resolves, so no resource is created or updated with it; were the rejection to go
 * through the resource's inputs instead, the SDK would prefix it with one `error
 * serializing property` per level. A value still unknown (in a preview) is not checked:
 * `pulumi up` checks it.
 */
export class ResolvedArgumentChecks {
  constructor(
    readonly component: string,
    readonly resourceName: string,
    readonly resource: pulumi.Resource,
  ) {}

  /** `value`, once `problemOf` (given the value and whether it is a secret) finds nothing wrong with it. */
  checked<T>(path: string, value: pulumi.Input<T>, problemOf: (resolved: pulumi.Unwrap<T>, isSecret: boolean) => string | undefined): pulumi.Output<pulumi.Unwrap<T>> {
    const output = pulumi.output(value);
    return output.apply(async (resolved) => {
      const reason = problemOf(resolved, await pulumi.isSecret(output));
      if (reason === undefined) return resolved;
      const { message } = new ComponentArgumentsError(this.component, this.resourceName, [{ path, reason }]);
      void Promise.reject(new pulumi.ResourceError(message, this.resource, /* hideStack */ true));
      return new Promise<never>(() => undefined);
    });
  }
}

/** `value` without its undefined fields, so defaults spread before it keep their place. */
export function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;
