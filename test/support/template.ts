/**
 * Helpers for tests that read a synthesized CloudFormation template.
 *
 * @example
 * ```ts
 * const bucketId = logicalIdIn(json, 'AWS::S3::Bucket', 'ReportBucket');
 * ```
 */

/** The logical id of the one resource of `type` whose id contains `part`; throws unless exactly one matches. */
export function logicalIdIn(
  template: { readonly Resources: Readonly<Record<string, { readonly Type: string }>> },
  type: string,
  part: string,
): string {
  const ids = Object.entries(template.Resources)
    .filter(([id, r]) => r.Type === type && id.includes(part))
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one ${type} matching ${part}, found ${ids.join(', ')}`);
  return ids[0] as string;
}
