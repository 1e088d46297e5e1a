import type { Database } from '../db/database';
import type { UploadState } from './upload.entity';

/** An uploads row as the store returns it. */
export interface UploadRecord {
  id: string;
  ownerId: string;
  type: string;
  filename: string;
  contentType: string;
  declaredSize: number;
  createdAt: number;
  expiresAt: number;
  state: UploadState;
  size: number | null;
  measuredContentType: string | null;
  sha256: string | null;
  width: number | null;
  height: number | null;
  hasThumbnail: boolean;
  attachedTo: string | null;
  attachedAt: number | null;
}

/** What the server measured of an upload's bytes. */
export interface MeasuredFacts {
  size: number;
  contentType: string;
  sha256: string;
  width: number | null;
  height: number | null;
  hasThumbnail: boolean;
}

type Row = Record<string, unknown>;

const nullableNumber = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

const toRecord = (row: Row): UploadRecord => ({
  id: String(row.id),
  ownerId: String(row.owner_id),
  type: String(row.type),
  filename: String(row.filename),
  contentType: String(row.content_type),
  declaredSize: Number(row.declared_size),
  createdAt: Number(row.created_at),
  expiresAt: Number(row.expires_at),
  state: row.state as UploadState,
  size: nullableNumber(row.size),
  measuredContentType: (row.measured_content_type as string | null) ?? null,
  sha256: (row.sha256 as string | null) ?? null,
  width: nullableNumber(row.width),
  height: nullableNumber(row.height),
  hasThumbnail: !!Number(row.has_thumbnail),
  attachedTo: (row.attached_to as string | null) ?? null,
  attachedAt: nullableNumber(row.attached_at),
});

/** Every statement of the uploads module. */
export class UploadStore {
  constructor(private readonly db: Database) {}

  /** A new PENDING upload. */
  async insert(upload: Pick<UploadRecord, 'id' | 'ownerId' | 'type' | 'filename' | 'contentType' | 'declaredSize' | 'createdAt' | 'expiresAt'>): Promise<void> {
    await this.db.knex('uploads').insert({
      id: upload.id,
      owner_id: upload.ownerId,
      type: upload.type,
      filename: upload.filename,
      content_type: upload.contentType,
      declared_size: upload.declaredSize,
      created_at: upload.createdAt,
      expires_at: upload.expiresAt,
      state: 'PENDING',
      has_thumbnail: false,
    });
  }

  /** One upload, or undefined. */
  async byId(id: string): Promise<UploadRecord | undefined> {
    const row = await this.db.knex('uploads').first('*').where({ id });
    // MySQL compares the id case-insensitively: only the exact id is this upload.
    return row && row.id === id ? toRecord(row) : undefined;
  }

  /** Which of these ids are PENDING uploads (whose object at `uploads/<id>` is still to be measured). */
  async pending(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows: Row[] = await this.db.knex('uploads').select('id').whereIn('id', ids).andWhere({ state: 'PENDING' });
    return new Set(rows.map((row) => String(row.id)));
  }

  /** PENDING → READY with the measured facts; false when another completion got there first. */
  async markReady(id: string, facts: MeasuredFacts): Promise<boolean> {
    const changed = await this.db.knex('uploads').where({ id, state: 'PENDING' }).update({
      state: 'READY',
      size: facts.size,
      measured_content_type: facts.contentType,
      sha256: facts.sha256,
      width: facts.width,
      height: facts.height,
      has_thumbnail: facts.hasThumbnail,
    });
    return changed === 1;
  }

  /**
   * READY → ATTACHED to `attachedTo`; also true when it is already attached to exactly that (a resend of the same
   * message). False when it is attached elsewhere, revoked or not ready.
   */
  async attach(id: string, attachedTo: string, now: number): Promise<boolean> {
    const changed = await this.db
      .knex('uploads')
      .where({ id })
      .andWhere((q) => q.where({ state: 'READY' }).orWhere({ state: 'ATTACHED', attached_to: attachedTo }))
      .update({ state: 'ATTACHED', attached_to: attachedTo, attached_at: now });
    return changed === 1;
  }

  /** Undoes {@link attach} for a send that was not stored. */
  async detach(id: string, attachedTo: string): Promise<void> {
    await this.db.knex('uploads').where({ id, state: 'ATTACHED', attached_to: attachedTo }).update({ state: 'READY', attached_to: null, attached_at: null });
  }

  /** Marks the upload REVOKED; false when it already was. */
  async revoke(id: string): Promise<boolean> {
    const changed = await this.db.knex('uploads').where({ id }).whereNot({ state: 'REVOKED' }).update({ state: 'REVOKED' });
    return changed === 1;
  }

  /** Whether an upload that is not revoked keeps these bytes. */
  async referenced(sha256: string): Promise<boolean> {
    return !!(await this.db.knex('uploads').first('id').where({ sha256 }).whereNot({ state: 'REVOKED' }));
  }

  /** Up to `limit` uploads in one of `states` created before `before` (the (state, created_at) index). */
  async createdBefore(states: UploadState[], before: number, limit: number): Promise<UploadRecord[]> {
    const rows: Row[] = await this.db.knex('uploads').select('*').whereIn('state', states).andWhere('created_at', '<', before).limit(limit);
    return rows.map(toRecord);
  }

  /** Up to `limit` uploads attached to messages before `before`. */
  async attachedToMessagesBefore(before: number, limit: number): Promise<UploadRecord[]> {
    const rows: Row[] = await this.db
      .knex('uploads')
      .select('*')
      .where({ state: 'ATTACHED' })
      .andWhere('attached_at', '<', before)
      .andWhere('attached_to', 'like', 'message:%')
      .limit(limit);
    return rows.map(toRecord);
  }

  /** Deletes rows (their objects are the caller's). */
  async delete(ids: string[]): Promise<void> {
    if (ids.length) await this.db.knex('uploads').whereIn('id', ids).delete();
  }
}
