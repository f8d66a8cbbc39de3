/**
 * AWS's public list prices for the regions the stacks deploy to (both dev and prod are in
 * eu-west-1, Europe (Ireland)), in US dollars, as the pricing pages listed them on
 * {@link PRICES_CHECKED}. No network at run time: a price change at AWS is one line here.
 *
 * Free tiers are not in the table: a stack is one of many in an account, and the free
 * tier (where one still applies) is the account's, not the stack's.
 */

/** The day the figures below were read from the pages in {@link PRICE_SOURCES}. */
export const PRICES_CHECKED = "2026-05-10";

/** Where each service's figures come from. */
export const PRICE_SOURCES = {
  lambda: "https://aws.amazon.com/lambda/pricing/",
  lambdaInit: "https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/",
  apiGateway: "https://aws.amazon.com/api-gateway/pricing/",
  waf: "https://aws.amazon.com/waf/pricing/",
  sqs: "https://aws.amazon.com/sqs/pricing/",
  sns: "https://aws.amazon.com/sns/pricing/",
  dynamodb: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
  cloudwatch: "https://aws.amazon.com/cloudwatch/pricing/",
  kms: "https://aws.amazon.com/kms/pricing/",
  privatelink: "https://aws.amazon.com/privatelink/pricing/",
  eventbridge: "https://aws.amazon.com/eventbridge/pricing/",
  s3: "https://aws.amazon.com/s3/pricing/",
  route53: "https://aws.amazon.com/route53/pricing/",
  acm: "https://aws.amazon.com/certificate-manager/pricing/",
  codedeploy: "https://aws.amazon.com/codedeploy/pricing/",
  cognito: "https://aws.amazon.com/cognito/pricing/",
  xray: "https://aws.amazon.com/xray/pricing/",
  vpc: "https://aws.amazon.com/vpc/pricing/",
  ssm: "https://aws.amazon.com/systems-manager/pricing/",
} as const;

export type PriceSource = keyof typeof PRICE_SOURCES;

/** A graduated price: each tier's price applies to the quantity that falls in it. */
export interface Tier {
  /** Where this tier ends (its quantity included); Infinity for the last. */
  upTo: number;
  price: number;
}

/** AWS bills a month as 730 hours in its examples and calculator. */
export const HOURS_PER_MONTH = 730;

/** Lambda's per-architecture prices (x86_64 and arm64 differ, requests do not). */
export interface LambdaArchitecturePrices {
  /** Per GB-second of on-demand duration, tiered by the account's monthly GB-seconds. */
  duration: Tier[];
  /** Per GB-second configured as provisioned concurrency, used or not. */
  provisionedConcurrency: number;
  /** Per GB-second of duration run on provisioned concurrency (lower than on-demand). */
  provisionedDuration: number;
}

export interface RegionPrices {
  lambda: {
    /** Per request; the same on both architectures. */
    request: number;
    x86_64: LambdaArchitecturePrices;
    arm64: LambdaArchitecturePrices;
  };
  apiGateway: {
    /** HTTP API, per request (metered in 512 KB increments), tiered by monthly requests. */
    httpRequest: Tier[];
    /** REST API, per request, tiered by monthly requests. */
    restRequest: Tier[];
  };
  waf: { webAclMonth: number; ruleMonth: number; request: number };
  sqs: { standardRequest: number; fifoRequest: number };
  sns: { publish: number; emailNotification: number };
  dynamodb: { writeRequestUnit: number; readRequestUnit: number; storageGbMonth: number; pitrGbMonth: number; streamReadRequest: number };
  cloudwatch: { standardAlarmMetricMonth: number; highResolutionAlarmMetricMonth: number; logIngestionGb: number; logStorageGbMonth: number };
  kms: { keyMonth: number; request: number };
  vpc: { interfaceEndpointAzHour: number; interfaceEndpointGb: number; natGatewayHour: number; natGatewayGb: number };
  ssm: { advancedParameterMonth: number };
  eventbridge: { customEvent: number; schedulerInvocation: number };
  s3: { storageGbMonth: number; putRequest: number; getRequest: number };
  route53: { hostedZoneMonth: number; standardQuery: number };
  cognito: Record<"LITE" | "ESSENTIALS" | "PLUS", number>;
  xray: { traceRecorded: number };
}

const perMillion = (dollars: number) => dollars / 1e6;

/** Prices per region, keyed as `aws:region` names them. */
export const PRICES: Record<string, RegionPrices> = {
  "eu-west-1": {
    lambda: {
      request: perMillion(0.20),
      x86_64: {
        duration: [{ upTo: 6e9, price: 0.0000166667 }, { upTo: 15e9, price: 0.000015 }, { upTo: Infinity, price: 0.0000133334 }],
        provisionedConcurrency: 0.0000041667,
        provisionedDuration: 0.0000097222,
      },
      arm64: {
        duration: [{ upTo: 7.5e9, price: 0.0000133334 }, { upTo: 18.75e9, price: 0.0000120001 }, { upTo: Infinity, price: 0.0000106667 }],
        provisionedConcurrency: 0.0000033334,
        provisionedDuration: 0.0000077778,
      },
    },
    apiGateway: {
      httpRequest: [{ upTo: 300e6, price: perMillion(1.11) }, { upTo: Infinity, price: perMillion(1.00) }],
      restRequest: [
        { upTo: 333e6, price: perMillion(3.50) }, { upTo: 1e9, price: perMillion(3.19) },
        { upTo: 20e9, price: perMillion(2.71) }, { upTo: Infinity, price: perMillion(1.72) },
      ],
    },
    waf: { webAclMonth: 5.00, ruleMonth: 1.00, request: perMillion(0.60) },
    sqs: { standardRequest: perMillion(0.40), fifoRequest: perMillion(0.50) },
    sns: { publish: perMillion(0.50), emailNotification: 2.00 / 100_000 },
    dynamodb: { writeRequestUnit: perMillion(0.7063), readRequestUnit: perMillion(0.1413), storageGbMonth: 0.283, pitrGbMonth: 0.2266, streamReadRequest: 0.0226 / 100_000 },
    cloudwatch: { standardAlarmMetricMonth: 0.10, highResolutionAlarmMetricMonth: 0.30, logIngestionGb: 0.57, logStorageGbMonth: 0.03 },
    kms: { keyMonth: 1.00, request: 0.03 / 10_000 },
    vpc: { interfaceEndpointAzHour: 0.011, interfaceEndpointGb: 0.01, natGatewayHour: 0.048, natGatewayGb: 0.048 },
    ssm: { advancedParameterMonth: 0.05 },
    eventbridge: { customEvent: perMillion(1.00), schedulerInvocation: perMillion(1.00) },
    s3: { storageGbMonth: 0.023, putRequest: 0.005 / 1000, getRequest: 0.0004 / 1000 },
    route53: { hostedZoneMonth: 0.50, standardQuery: perMillion(0.40) },
    cognito: { LITE: 0.0055, ESSENTIALS: 0.015, PLUS: 0.02 },
    xray: { traceRecorded: perMillion(5.00) },
  },
};

/** The table for a region; throws naming the regions it has. */
export function pricesFor(region: string): RegionPrices {
  const prices = PRICES[region];
  if (!prices) throw new Error(`No price table for region ${region}; tools/cost/prices.ts has ${Object.keys(PRICES).join(", ")}. Add the region's prices from ${PRICE_SOURCES.lambda} and the other pages listed there.`);
  return prices;
}

/** What `quantity` costs at graduated `tiers`, the first `alreadyUsed` units having been billed elsewhere. */
export function tieredCost(tiers: Tier[], quantity: number, alreadyUsed = 0): number {
  let cost = 0;
  let tierStart = 0;
  const to = alreadyUsed + quantity;
  for (const tier of tiers) {
    const start = Math.max(alreadyUsed, tierStart);
    const end = Math.min(to, tier.upTo);
    if (end > start) cost += (end - start) * tier.price;
    tierStart = tier.upTo;
    if (tierStart >= to) break;
  }
  return cost;
}
