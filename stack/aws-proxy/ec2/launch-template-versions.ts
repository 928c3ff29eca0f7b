/**
 * CreateLaunchTemplateVersion as AWS does it (moto ignores both parameters):
 *  - `SourceVersion`: the new version is the source version's data overlaid with what was sent
 *    (launch-template-data.ts); the source is read from moto (a number, `$Latest` or `$Default`);
 *  - `ClientToken`: the same token with the same parameters answers the version the first request
 *    created (no new version); with other parameters → `IdempotentParameterMismatch`. Requests with
 *    one token run one at a time. Scope: account, region, token (as AWS).
 */
import { isOk, passThrough, type LayerResponse } from '../core/service-layer';
import type { Ec2Call } from './ec2-call';
import { findElement, parseXml } from './ec2-xml';
import { launchTemplateDataFields, overlaySourceVersion } from './launch-template-data';

interface TokenEntry {
  fingerprint: string;
  answer: Promise<LayerResponse>;
}

const IGNORED_IN_FINGERPRINT = new Set(['Action', 'Version', 'ClientToken']);
const MAX_TOKENS = 100_000;

/** What must be equal for a repeated ClientToken to be the same request. */
export function requestFingerprint(params: URLSearchParams): string {
  return [...params]
    .filter(([name]) => !IGNORED_IN_FINGERPRINT.has(name))
    .map(([name, value]) => `${name}=${value}`)
    .sort()
    .join('&');
}

export class LaunchTemplateVersions {
  private readonly tokens = new Map<string, TokenEntry>();
  private replays = 0;
  private mismatches = 0;

  async create(call: Ec2Call): Promise<LayerResponse> {
    const token = call.params.get('ClientToken');
    if (!token) return this.createVersion(call);
    const key = [call.account, call.region, token].join('\u0000');
    const fingerprint = requestFingerprint(call.params);
    const earlier = this.tokens.get(key);
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) {
        this.mismatches++;
        return call.error(
          'IdempotentParameterMismatch',
          'The client token you have provided is associated with a request that had different parameters.',
        );
      }
      const first = await earlier.answer;
      if (isOk(first)) {
        this.replays++;
        return { ...first, outcome: 'replayed-token', forwarded: false };
      }
      // the first attempt failed: this one is evaluated afresh below
    }
    const answer = this.createVersion(call);
    this.tokens.set(key, { fingerprint, answer });
    if (this.tokens.size > MAX_TOKENS) this.tokens.delete(this.tokens.keys().next().value as string);
    const done = await answer;
    if (!isOk(done) && this.tokens.get(key)?.answer === answer) this.tokens.delete(key);
    return done;
  }

  snapshot(): { clientTokens: number; replays: number; mismatches: number } {
    return { clientTokens: this.tokens.size, replays: this.replays, mismatches: this.mismatches };
  }

  reset(): void {
    this.tokens.clear();
    this.replays = 0;
    this.mismatches = 0;
  }

  private async createVersion(call: Ec2Call): Promise<LayerResponse> {
    const sourceVersion = call.params.get('SourceVersion');
    if (!sourceVersion) return passThrough(await call.forward());
    const describe: Record<string, string> = {
      Action: 'DescribeLaunchTemplateVersions',
      'LaunchTemplateVersion.1': sourceVersion,
    };
    const id = call.params.get('LaunchTemplateId');
    const name = call.params.get('LaunchTemplateName');
    if (id) describe.LaunchTemplateId = id;
    else if (name) describe.LaunchTemplateName = name;
    const source = await call.motoAs(describe);
    if (!isOk(source)) return passThrough(source, 'refused(source-version)');
    const data = findElement(parseXml(source.body.toString('utf8')), 'launchTemplateData');
    if (!data)
      return call.error(
        'InvalidLaunchTemplateVersion.NotFound',
        `Could not find launch template version ${sourceVersion}`,
      );
    const merged = overlaySourceVersion(call.params, launchTemplateDataFields(data));
    merged.delete('SourceVersion');
    return passThrough(await call.forward(merged), 'forwarded(source-version-overlaid)');
  }
}
