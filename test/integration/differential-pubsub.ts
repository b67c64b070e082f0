/**
 * Differential cases for pub/sub: the confirmations of the subscribe family,
 * RESP2 subscriber mode, messages (published by the subscriber itself: inside
 * MULTI/EXEC, which subscriber mode lets through, or directly in RESP3), and
 * PUBSUB's introspection, next to a real redis-server (differential.test.ts).
 * Each step reads one reply, so a command that answers several times (a
 * SUBSCRIBE of two channels) leaves the rest for the next steps, on both sides.
 */
import type { Case } from './differential-cases.js';

export const pubsubCases: Case[] = [
  {
    name: 'SUBSCRIBE family: confirmations and counts',
    steps: [
      'SUBSCRIBE dp1', 'SUBSCRIBE dp1', 'PSUBSCRIBE dp?', 'SSUBSCRIBE dps', 'PING', 'PING hi',
      'UNSUBSCRIBE dp1', 'UNSUBSCRIBE dpnone', 'PUNSUBSCRIBE dpnone', 'PUNSUBSCRIBE dp?',
      'SUNSUBSCRIBE dps', 'SUNSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE', 'PING',
      'SUBSCRIBE dp2 dp3', 'PING', 'PUNSUBSCRIBE', 'UNSUBSCRIBE dp3', 'UNSUBSCRIBE dp2', 'PING',
      'subscribe dp4', 'Unsubscribe dp4',
    ],
  },
  {
    name: 'subscriber mode: other commands refused in RESP2, allowed in RESP3; RESET leaves it',
    steps: ['SET k v', 'SUBSCRIBE dpm', 'GET k', 'SET k w', 'PUBSUB CHANNELS dpm', 'ECHO x', 'SUBSCRIBE', 'RESET', 'GET k', 'PSUBSCRIBE dpm*', 'GET k', 'PUNSUBSCRIBE', 'GET k', 'SSUBSCRIBE dpm', 'GET k', 'RESET', 'PING'],
  },
  {
    name: 'messages: message, pmessage and smessage, in order with the replies',
    steps: [
      'SUBSCRIBE dpc', 'PSUBSCRIBE dp[c]', 'PSUBSCRIBE *', 'SSUBSCRIBE dpc',
      'MULTI', 'PUBLISH dpc hello', 'PUBLISH dpother x', 'SPUBLISH dpc shard', 'SPUBLISH dpnone y', 'PUBLISH dpc', 'EXEC',
      'PING', 'PING', 'PING', 'PING', 'PING', 'PING', 'PING', 'PING', 'PING',
    ],
  },
  {
    name: 'messages: binary and empty channels and payloads',
    steps: [
      ['SUBSCRIBE', ''], ['PSUBSCRIBE', '\xff*'], 'MULTI', ['PUBLISH', '', ''], ['PUBLISH', '\xff\x00', 'a\r\nb'], 'EXEC', 'PING', 'PING', 'PING', 'PING',
    ],
  },
  {
    name: 'PUBSUB: CHANNELS, NUMSUB, NUMPAT, SHARDCHANNELS, SHARDNUMSUB',
    steps: [
      { sleep: 100 },
      'PUBSUB CHANNELS dpi*', 'PUBSUB NUMSUB', 'PUBSUB NUMSUB dpi1 dpi2', 'PUBSUB SHARDCHANNELS dpi*', 'PUBSUB SHARDNUMSUB dpi1',
      'MULTI', 'SUBSCRIBE dpi1', 'PSUBSCRIBE dpi*', 'SSUBSCRIBE dpi2', 'PUBSUB CHANNELS dpi*', 'PUBSUB NUMSUB dpi1 dpi2', 'PUBSUB NUMPAT', 'PUBSUB SHARDCHANNELS dpi*', 'PUBSUB SHARDNUMSUB dpi2 dpi1', 'PUBSUB CHANNELS dpx', 'EXEC',
    ],
  },
  {
    name: 'PUBSUB and PUBLISH: errors',
    steps: ['PUBSUB', 'PUBSUB FOO', 'PUBSUB CHANNELS a b', 'PUBSUB NUMPAT x', 'PUBLISH a', 'PUBLISH a b c', 'SPUBLISH a', 'SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'PUBLISH dpnobody x', 'SPUBLISH dpnobody x'],
  },
];
