import { z } from 'zod';

const price = z
  .object({ value: z.number().nonnegative(), source: z.string().min(5), unverified: z.boolean().optional() })
  .strict();
export type Price = z.infer<typeof price>;

const regionPrices = z
  .object({
    fargateArmVcpuHour: price,
    fargateArmGbHour: price,
    fargateX86VcpuHour: price,
    fargateX86GbHour: price,
    fargateSpotX86VcpuHour: price,
    fargateSpotX86GbHour: price,
    ec2Hour: z.record(z.string(), price),
    ec2SpotHour: z.record(z.string(), price),
    ebsGp3GbMonth: price,
    publicIpv4Hour: price,
    s3StandardGbMonth: price,
    s3Put1k: price,
    s3Get1k: price,
    dynamoWriteMillion: price,
    dynamoReadMillion: price,
    dynamoStorageGbMonth: price,
    dynamoFreeStorageGb: price,
    dynamoPitrGbMonth: price,
    cloudFrontFreeGb: price,
    cloudFrontGb: price,
    ecrGbMonth: price,
    logsIngestGb: price,
    logsStoreGbMonth: price,
    logsFreeGb: price,
    customMetricMonth: price,
    freeMetrics: price,
    alarmMonth: price,
    freeAlarms: price,
    dashboardMonth: price,
    freeDashboards: price,
    secretMonth: price,
    secret10kCalls: price,
    route53ZoneMonth: price,
    route53QueriesMillion: price,
    ssmStandardParameterMonth: price,
    kms10kRequests: price,
    kmsFreeRequests: price,
    cloudFrontHttpsRequests10k: price,
    cloudFrontFreeRequests: price,
    natGatewayHour: price,
    natGatewayGb: price,
    dataTransferOutGb: price,
    dataTransferFreeGb: price,
    wafWebAclMonth: price,
    wafRuleMonth: price,
    wafMillionRequests: price,
    schedulerFreeInvocations: price,
  })
  .strict();
export type RegionPrices = z.infer<typeof regionPrices>;

export const priceTableSchema = z
  .object({
    $comment: z.string().optional(),
    retrieved: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    currency: z.literal('USD'),
    regions: z.record(z.string(), regionPrices),
  })
  .strict();
export type PriceTable = z.infer<typeof priceTableSchema>;

export function parsePriceTable(raw: unknown): PriceTable {
  const r = priceTableSchema.safeParse(raw);
  if (!r.success)
    throw new Error(
      `Invalid price table: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return r.data;
}

export function regionPricesOf(table: PriceTable, region: string): RegionPrices {
  const p = table.regions[region];
  if (!p)
    throw new Error(
      `No prices for ${region} in the price table (have: ${Object.keys(table.regions).join(', ')})`,
    );
  return p;
}
