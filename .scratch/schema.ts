import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import * as c from "../components";
(async () => {
  const provider = new ComponentProvider({ name: "serverless-components", dirname: require("path").resolve(__dirname, ".."), components: [c.SecureFunction, c.ServerlessApi, c.QueueWorker, c.EventWorker, c.StreamWorker, c.RestApi] });
  const schema = JSON.parse(await provider.getSchema());
  const r = schema.resources["serverless-components:index:RestApi"];
  console.log(JSON.stringify({ inputs: Object.keys(r.inputProperties), outputs: Object.keys(r.properties), required: r.requiredInputs }, null, 1));
  for (const t of ["RestRouteAuth", "QuotaPeriod", "RestEndpointType", "LambdaAuthorizerType"]) console.log(t, JSON.stringify(schema.types[`serverless-components:index:${t}`]?.enum?.map((e: any) => e.value)));
  for (const [k, p] of Object.entries<any>(r.properties)) if (!p.description) console.log("no description", k);
  console.log(JSON.stringify(r.properties.apiKeys), JSON.stringify(r.inputProperties.routes).slice(0, 300));
  console.log(Object.keys(schema.types).filter((t) => /Rest|Usage|Cognito|Waf|Quota|Lambda/.test(t)));
})().catch((e) => { console.error(e); process.exit(1); });
