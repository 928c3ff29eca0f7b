import path from 'node:path';
import * as proto from '@temporalio/proto';
import {
  historyFromJSON as sdkHistoryFromJSON,
  historyToJSON as sdkHistoryToJSON,
} from '@temporalio/common/lib/proto-utils';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

type History = proto.temporal.api.history.v1.IHistory;
type ProtoJson = {
  toJson: (type: unknown, message: unknown) => unknown;
  fromJson: (type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }) => History | null;
};

/**
 * Workflow histories as proto JSON files (the form `temporal workflow show --output json` and the
 * SDK's `historyToJSON` write, and `Worker.runReplayHistory` reads).
 *
 * Why not just the SDK's historyToJSON/historyFromJSON: in this install @temporalio/common and
 * @temporalio/proto each got their own copy of protobufjs 8 (the root protobufjs is 7 for another
 * package), so the SDK functions fail with "type must be a Type" (protojson's `instanceof` check sees
 * the other copy's Type). We try the SDK first and fall back to protojson from the copy that built
 * @temporalio/proto's types: same output, same input.
 */
const protoDir = path.dirname(require.resolve('@temporalio/proto/package.json'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as ProtoJson;
// The CommonJS module object, as the SDK patches it (an ES namespace wrapper has no protobufjs root).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protoRoot = require('@temporalio/proto') as Record<string, unknown>;
const historyType = (patchProtobufRoot(protoRoot) as unknown as { lookupType(name: string): unknown }).lookupType(
  'temporal.api.history.v1.History',
);

export function historyToJSON(history: History): string {
  try {
    return sdkHistoryToJSON(history);
  } catch {
    return JSON.stringify(
      protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)),
      null,
      2,
    );
  }
}

/** A History (eventIds as Long) that `Worker.runReplayHistory` takes as is. */
export function historyFromJSON(json: unknown): History {
  try {
    return sdkHistoryFromJSON(json);
  } catch {
    const loaded = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
    if (!loaded) throw new TypeError('invalid history JSON');
    return loaded;
  }
}
