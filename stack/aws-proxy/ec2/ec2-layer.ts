/**
 * The EC2 layer of the proxy, always on (no fault-plan section of its own: poisoned images and the
 * like belong to the Auto Scaling layer that rolls them out):
 *  - shared-images.ts: an AMI shared with ModifyImageAttribute becomes visible from the consumer
 *    account (DescribeImages) — directly or through its organization / OU (account-organizations.ts) —,
 *    every share is recorded (image-shares.ts), and AWS's 1,000-accounts-per-image limit is enforced;
 *  - image-block-devices.ts: RegisterImage keeps its BlockDeviceMappings (encrypted snapshots), which
 *    DescribeImages shows;
 *  - launch-template-versions.ts: CreateLaunchTemplateVersion honours SourceVersion and ClientToken.
 * Launches in the consumer need nothing more: moto does not check the AMI of RunInstances or of an
 * Auto Scaling launch (unless MOTO_ENABLE_AMI_VALIDATION is set, which the stack does not).
 */
import type { RequestInfo } from '../core/request-info';
import type { LayerRequest, LayerResponse, ServiceLayer } from '../core/service-layer';
import type { UpstreamForwarder } from '../core/upstream-forwarder';
import { Ec2Call } from './ec2-call';
import { AccountOrganizations } from './account-organizations';
import { ImageBlockDevices } from './image-block-devices';
import { ImageShares, type ImageShare } from './image-shares';
import { LaunchTemplateVersions } from './launch-template-versions';
import { describeImages, modifyImageAttribute } from './shared-images';

export interface Ec2LayerOptions {
  forwarder: UpstreamForwarder;
  now?: () => number;
}

export class Ec2Layer implements ServiceLayer {
  readonly name = 'ec2';
  readonly shares: ImageShares;
  readonly organizations = new AccountOrganizations();
  readonly blockDevices = new ImageBlockDevices();
  readonly launchTemplateVersions = new LaunchTemplateVersions();
  private readonly now: () => number;
  private readonly actions: Record<string, (call: Ec2Call) => Promise<LayerResponse>>;

  constructor(private readonly opts: Ec2LayerOptions) {
    this.now = opts.now ?? Date.now;
    this.shares = new ImageShares(this.now, this.organizations);
    this.actions = {
      ModifyImageAttribute: (call) => modifyImageAttribute(call, this.shares),
      DescribeImages: (call) => describeImages(call, this.shares, this.blockDevices),
      RegisterImage: (call) => this.blockDevices.registerImage(call),
      CreateLaunchTemplateVersion: (call) => this.launchTemplateVersions.create(call),
    };
  }

  handles(info: RequestInfo): boolean {
    return info.service === 'ec2' && info.protocol === 'ec2' && Object.hasOwn(this.actions, info.action);
  }

  handle(req: LayerRequest): Promise<LayerResponse> {
    return this.actions[req.info.action](new Ec2Call(this.opts.forwarder, req, this.now));
  }

  /** The AMI share ledger (also at `GET /__fleetops/ec2/shares`). */
  shareLedger(): ImageShare[] {
    return this.shares.list();
  }

  snapshot(): Record<string, unknown> {
    return {
      shares: this.shares.list(),
      organizations: this.organizations.list(),
      registeredImages: this.blockDevices.list(),
      launchTemplateVersions: this.launchTemplateVersions.snapshot(),
    };
  }

  reset(): void {
    this.shares.reset();
    this.organizations.reset();
    this.blockDevices.reset();
    this.launchTemplateVersions.reset();
  }
}
