// The topic configs a partition log acts on, parsed once per topic change from the effective
// configs (the topic's overrides over the defaults of its durability profile).
import type { TopicRecord } from '../metadata/types.js';
import { PROFILES, effectiveTopicConfigs, isProfileName, type DurabilityProfile } from './topic-config.js';

export interface LogSettings {
  profile: DurabilityProfile;
  segmentBytes: number;
  segmentMs: number;
  /** -1: keep forever. */
  retentionMs: number;
  /** -1: no size bound. */
  retentionBytes: number;
  maxMessageBytes: number;
  logAppendTime: boolean;
  /** How far in the future (ms) a CreateTime timestamp may be; Infinity when unbounded. */
  timestampAfterMaxMs: number;
  /** How far in the past (ms) a CreateTime timestamp may be; Infinity when unbounded. */
  timestampBeforeMaxMs: number;
}

const LONG_MAX = 9223372036854775807n;

function num(v: string): number {
  const n = BigInt(v.trim());
  return n >= LONG_MAX ? Infinity : Number(n);
}

export function logSettings(topic: TopicRecord, brokerProfile: DurabilityProfile): LogSettings {
  const eff = effectiveTopicConfigs(topic.configs, brokerProfile);
  const get = (name: string) => eff.get(name)!.value;
  const profileName = get('durability.profile');
  return {
    profile: isProfileName(profileName) ? PROFILES[profileName] : brokerProfile,
    segmentBytes: Math.max(1, num(get('segment.bytes'))),
    segmentMs: Math.max(1, num(get('segment.ms'))),
    retentionMs: num(get('retention.ms')),
    retentionBytes: num(get('retention.bytes')),
    maxMessageBytes: num(get('max.message.bytes')),
    logAppendTime: get('message.timestamp.type') === 'LogAppendTime',
    timestampAfterMaxMs: num(get('message.timestamp.after.max.ms')),
    timestampBeforeMaxMs: num(get('message.timestamp.before.max.ms')),
  };
}
