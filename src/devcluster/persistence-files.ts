/**
 * The files of a data directory (persistence.ts): records as `<crc32> <json>` lines, reading back the
 * intact ones, durable writes, and the lock that keeps a second process out.
 */
import { closeSync, fsyncSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Obj } from './store.js';

export type PutRecord = { op: 'put'; r: string; o: Obj };
export type DelRecord = { op: 'del'; r: string; ns?: string; n: string; rv: number };
export type LogRecord = PutRecord | DelRecord;
export interface SnapshotHeader {
  format: 'nimop-snapshot/v1';
  rv: number;
  gen: number;
  objects: number;
}

export const SNAPSHOT = 'snapshot';
export const LOCK = 'LOCK';
export const WAL = /^wal-(\d+)\.log$/;
export const walName = (gen: number) => `wal-${String(gen).padStart(8, '0')}.log`;

export function line(value: unknown): string {
  const json = JSON.stringify(value);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** The lines of a file that are whole and intact, and how many bytes follow the last of them. */
export function readLines(text: string): { lines: unknown[]; droppedBytes: number } {
  const lines: unknown[] = [];
  let at = 0;
  while (at < text.length) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) break;
    const raw = text.slice(at, nl);
    const json = raw.slice(9);
    if (raw[8] !== ' ' || crc32(json).toString(16).padStart(8, '0') !== raw.slice(0, 8)) break;
    try {
      lines.push(JSON.parse(json));
    } catch {
      break;
    }
    at = nl + 1;
  }
  return { lines, droppedBytes: Buffer.byteLength(text.slice(at)) };
}

export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every platform can fsync a directory; the rename is still atomic.
  }
}

export function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

export function lockDir(dir: string): void {
  const path = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number(readFileSync(path, 'utf8').trim());
    let alive = false;
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (alive) throw new Error(`data directory ${dir} is in use by process ${pid}${pid === process.pid ? ' (this one: stop the other control plane first)' : ''}`);
    unlinkSync(path);
  }
  throw new Error(`cannot lock data directory ${dir}`);
}
