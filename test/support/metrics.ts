import type { Endpoint } from './client';
import http from 'node:http';

/** One line of a scrape: a series and its value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus' text format as prom-client writes it: `name{label="value",...} number` per line, comments skipped. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** A scrape, read the way Prometheus reads it. */
export class Scrape {
  constructor(readonly samples: Sample[]) {}

  /** The series named so with (at least) these labels; undefined when it is not exposed. */
  find(name: string, labels: Record<string, string> = {}): number | undefined {
    return this.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  }

  /** Like {@link find}, with 0 for a series not exposed yet (a counter that has not counted). */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.find(name, labels) ?? 0;
  }
}

/**
 * GET /metrics of `server` (or of its metrics port), failing unless it answers 200 in Prometheus' format. Each
 * scrape opens a connection of its own, as Prometheus does: where workers share a port, successive scrapes
 * reach them in turn instead of the one a kept-alive connection belongs to.
 */
export async function scrape(server: Endpoint, token?: string): Promise<Scrape> {
  const { status, type, text } = await new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
    const request = http.get(`${server.url}/metrics`, { agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), text }));
    });
    request.on('error', reject);
  });
  expect(status).toBe(200);
  expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
  return new Scrape(parse(text));
}
