// Closed-loop load over MQTT: `concurrency` requests in flight on one client connection, answers matched
// by request identifier. The load client publishes with QoS 0 (its own QoS 1 book-keeping in mqtt.js, not
// Warden, was the bottleneck); Warden answers with its configured mqtt.qos.
import mqtt from 'mqtt';
import { percentile, type LoadResult } from './load.js';

export async function runMqttIngest(broker: string, cseId: string, concurrency: number, total: number): Promise<LoadResult> {
  const ae = 'Cmqttbench';
  const client = await mqtt.connectAsync(broker, { clientId: `warden-bench-${process.pid}` });
  const pending = new Map<string, (rsc: number) => void>();
  await client.subscribeAsync([`/oneM2M/resp/${ae}/${cseId}/json`, `/oneM2M/reg_resp/${ae}/${cseId}/json`], { qos: 1 });
  client.on('message', (_topic, payload) => {
    const doc = JSON.parse(payload.toString()) as { rqi: string; rsc: number };
    pending.get(doc.rqi)?.(doc.rsc);
    pending.delete(doc.rqi);
  });
  const send = (kind: string, doc: Record<string, unknown>): Promise<number> =>
    new Promise((resolve) => {
      pending.set(String(doc.rqi), resolve);
      void client.publishAsync(`/oneM2M/${kind}/${ae}/${cseId}/json`, JSON.stringify(doc), { qos: 0 });
    });
  await send('reg_req', { op: 1, to: 'cse-in', fr: ae, rqi: 'reg', rvi: '3', ty: 2, pc: { 'm2m:ae': { rn: 'mqttbench', api: 'Nmqtt', rr: false, srv: ['3'] } } });
  await send('req', { op: 1, to: 'cse-in/mqttbench', fr: ae, rqi: 'cnt', rvi: '3', ty: 3, pc: { 'm2m:cnt': { rn: 'data', mni: 1000 } } });
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      const rsc = await send('req', { op: 1, to: 'cse-in/mqttbench/data', fr: ae, rqi: `m${i}`, rvi: '3', ty: 4, pc: { 'm2m:cin': { con: { t: i } } } });
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (rsc !== 2001) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await client.endAsync();
  latencies.sort((a, b) => a - b);
  return { requests: total, errors, seconds, perSecond: total / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}
