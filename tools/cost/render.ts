/**
 * The cost estimate as text (terminal), markdown (the pull-request comment) and JSON, and
 * the difference per month between two stacks' estimates.
 */
import { cell } from "../plan-render";
import { table } from "../plan-format";
import { PRICE_SOURCES } from "./prices";
import { byComponent, CostEstimate, LineItem, totalsOf } from "./estimate";

/** Dollars as a bill shows them; a small non-zero amount is not rounded to nothing. */
export function dollars(amount: number): string {
  if (amount !== 0 && Math.abs(amount) < 0.01) return `${amount < 0 ? "-" : ""}<$0.01`;
  return `${amount < 0 ? "-" : ""}$${Math.abs(amount).toFixed(2)}`;
}

/** A unit price with the digits it needs ($0.0000133334 per GB-s, $0.10 per alarm). */
export function unitPrice(amount: number): string {
  if (amount === 0) return "$0";
  if (amount >= 0.01) return `$${amount.toFixed(amount >= 1 ? 2 : 4).replace(/(\.\d\d\d*?)0+$/, "$1")}`;
  return `$${amount.toFixed(12).replace(/0+$/, "")}`;
}

/** A quantity with its digits grouped, to three decimals below 1000. */
export function quantity(amount: number): string {
  return amount >= 1000 ? Math.round(amount).toLocaleString("en-US") : String(Math.round(amount * 1000) / 1000);
}

const FREE_TIER_NOTE = "Free tiers are not applied: a stack is one of many in an account, and a free tier is the account's.";

function headline(estimate: CostEstimate): string {
  const totals = totalsOf(estimate.items);
  return `Monthly cost of stack "${estimate.stack}" of ${estimate.project} (${estimate.region}): ${dollars(totals.total)} (${dollars(totals.fixed)} fixed + ${dollars(totals.traffic)} traffic), USD, prices of ${estimate.pricesChecked}`;
}

const row = (i: LineItem) => [i.resource, i.item, `${quantity(i.quantity)} ${i.unit}`, unitPrice(i.unitPrice), dollars(i.monthly), i.fixed ? "fixed" : "traffic"];

export function costAsText(estimate: CostEstimate): string {
  const lines = [headline(estimate), FREE_TIER_NOTE, ""];
  for (const group of byComponent(estimate)) {
    lines.push(`${group.component}: ${dollars(group.total)} (${dollars(group.fixed)} fixed + ${dollars(group.traffic)} traffic)`);
    lines.push(table([["  RESOURCE", "ITEM", "QUANTITY", "UNIT PRICE", "MONTHLY", "PART"], ...group.items.map((i) => [`  ${i.resource}`, ...row(i).slice(1)])]), "");
  }
  const totals = totalsOf(estimate.items);
  lines.push(`Total: ${dollars(totals.total)} per month: fixed ${dollars(totals.fixed)}, traffic ${dollars(totals.traffic)}`);
  if (estimate.unpriced.length) lines.push("", `Not priced (no price in tools/cost/prices.ts): ${estimate.unpriced.map((u) => `${u.type} ${u.name}`).join(", ")}`);
  if (estimate.notes.length) lines.push("", "Notes:", ...estimate.notes.map((n) => `  - ${n}`));
  lines.push("", `Traffic model: the traffic* keys of Pulumi.yaml and Pulumi.${estimate.stack}.yaml; prices: tools/cost/prices.ts (docs/cost.md).`);
  return lines.join("\n");
}

export function costAsMarkdown(estimate: CostEstimate): string {
  const totals = totalsOf(estimate.items);
  const groups = byComponent(estimate);
  return [
    `### 💰 Cost of \`${estimate.stack}\`: ${dollars(totals.total)} per month (${dollars(totals.fixed)} fixed + ${dollars(totals.traffic)} traffic)`,
    "",
    `${estimate.region}, USD, list prices of ${estimate.pricesChecked}. ${FREE_TIER_NOTE}`,
    "",
    "| component | fixed | traffic | total |",
    "|---|---:|---:|---:|",
    ...groups.map((g) => `| ${cell(g.component)} | ${dollars(g.fixed)} | ${dollars(g.traffic)} | ${dollars(g.total)} |`),
    `| **total** | **${dollars(totals.fixed)}** | **${dollars(totals.traffic)}** | **${dollars(totals.total)}** |`,
    "",
    `<details><summary>Line items (${estimate.items.length})</summary>`,
    "",
    "| component | resource | item | quantity | unit price | monthly | part |",
    "|---|---|---|---:|---:|---:|---|",
    ...estimate.items.map((i) => `| ${cell(i.component)} | ${row(i).map(cell).join(" | ")} |`),
    "",
    "</details>",
    ...(estimate.unpriced.length ? ["", `> Not priced: ${estimate.unpriced.map((u) => `\`${u.type}\` ${cell(u.name)}`).join(", ")}`] : []),
    ...(estimate.notes.length ? ["", "<details><summary>Notes</summary>", "", ...estimate.notes.map((n) => `- ${cell(n)}`), "", "</details>"] : []),
  ].join("\n");
}

export function costAsJson(estimate: CostEstimate): string {
  return JSON.stringify({
    ...estimate,
    totals: totalsOf(estimate.items),
    components: byComponent(estimate).map(({ component, fixed, traffic, total }) => ({ component, fixed, traffic, total })),
    sources: PRICE_SOURCES,
  }, null, 2);
}

/** What a second stack costs per month more (or less) than the first, per component and in total. */
export interface CostDiff {
  first: string;
  second: string;
  components: Array<{ component: string; first: number; second: number; change: number }>;
  totals: { first: number; second: number; change: number; fixedChange: number; trafficChange: number };
}

export function diffCosts(first: CostEstimate, second: CostEstimate): CostDiff {
  const a = new Map(byComponent(first).map((g) => [g.component, g.total]));
  const b = new Map(byComponent(second).map((g) => [g.component, g.total]));
  const components = [...new Set([...a.keys(), ...b.keys()])].map((component) => {
    const [x, y] = [a.get(component) ?? 0, b.get(component) ?? 0];
    return { component, first: x, second: y, change: y - x };
  });
  const [ta, tb] = [totalsOf(first.items), totalsOf(second.items)];
  return { first: first.stack, second: second.stack, components, totals: { first: ta.total, second: tb.total, change: tb.total - ta.total, fixedChange: tb.fixed - ta.fixed, trafficChange: tb.traffic - ta.traffic } };
}

const signed = (amount: number) => (amount > 0 ? `+${dollars(amount)}` : dollars(amount));

export function costDiffAsText(diff: CostDiff): string {
  return [
    `Monthly cost, ${diff.first} -> ${diff.second}: ${dollars(diff.totals.first)} -> ${dollars(diff.totals.second)} (${signed(diff.totals.change)}: fixed ${signed(diff.totals.fixedChange)}, traffic ${signed(diff.totals.trafficChange)})`,
    table([["  COMPONENT", diff.first.toUpperCase(), diff.second.toUpperCase(), "CHANGE"], ...diff.components.map((c) => [`  ${c.component}`, dollars(c.first), dollars(c.second), signed(c.change)])]),
  ].join("\n");
}

export function costDiffAsMarkdown(diff: CostDiff): string {
  return [
    `**Monthly cost** \`${diff.first}\` ${dollars(diff.totals.first)} → \`${diff.second}\` ${dollars(diff.totals.second)}: ${signed(diff.totals.change)} (fixed ${signed(diff.totals.fixedChange)}, traffic ${signed(diff.totals.trafficChange)})`,
    "",
    `| component | ${diff.first} | ${diff.second} | change |`,
    "|---|---:|---:|---:|",
    ...diff.components.map((c) => `| ${cell(c.component)} | ${dollars(c.first)} | ${dollars(c.second)} | ${signed(c.change)} |`),
  ].join("\n");
}
