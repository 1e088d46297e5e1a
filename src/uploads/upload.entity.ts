import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { epochMs } from '../db/columns';
import { UserEntity } from '../users/user.entity';

/**
 * Where an upload is in its life: PENDING until a message or avatar first uses it (the bytes may not be there
 * yet), READY once the server measured and kept them, ATTACHED to one message or avatar, REVOKED once recalled,
 * replaced or purged (its objects go when no other upload has the same bytes).
 */
export type UploadState = 'PENDING' | 'READY' | 'ATTACHED' | 'REVOKED';

/**
 * One file a user asked to upload. What the client declared (type, filename, content type, size) is kept beside
 * what the server measured once the bytes arrived (size, sniffed type, sha256, image dimensions).
 */
@Entity({ tableName: 'uploads' })
@Index({ properties: ['state', 'createdAt'] })
export class UploadEntity {
  /** 128 random bits, base64url: the id is also the object key of the PUT, so it must not be guessable. */
  @PrimaryKey({ length: 22 })
  id!: string;

  @ManyToOne({ entity: () => UserEntity, mapToPk: true, deleteRule: 'cascade' })
  owner!: string;

  /** The MessageType it will be sent as (IMAGE, FILE, VOICE, VIDEO); decides the limits. */
  @Property({ length: 8 })
  type!: string;

  @Property({ length: 255 })
  filename!: string;

  /** As declared by the client. */
  @Property({ length: 255 })
  contentType!: string;

  /** As declared by the client: the most bytes the PUT may carry. */
  @Property({ type: epochMs() })
  declaredSize!: number;

  @Property({ type: epochMs() })
  createdAt!: number;

  /** When the upload URL stops accepting the PUT. */
  @Property({ type: epochMs() })
  expiresAt!: number;

  @Property({ length: 8 })
  state!: UploadState;

  /** Measured bytes, once READY. */
  @Property({ type: epochMs(), nullable: true })
  size?: number | null;

  /** The type the bytes show (or the declared one for a FILE the sniffer does not know), once READY. */
  @Property({ length: 255, nullable: true })
  measuredContentType?: string | null;

  /** Hex; names the kept object `media/<sha256>`, which every upload of the same bytes shares. */
  @Index()
  @Property({ length: 64, nullable: true })
  sha256?: string | null;

  @Property({ type: 'integer', nullable: true })
  width?: number | null;

  @Property({ type: 'integer', nullable: true })
  height?: number | null;

  /** Whether `thumbs/<sha256>.webp` was made. */
  @Property({ default: false })
  hasThumbnail: boolean = false;

  /** `message:<clientMessageId>` (of the owner's message) or `avatar:user:<id>` / `avatar:group:<id>`. */
  @Property({ length: 96, nullable: true })
  attachedTo?: string | null;

  @Property({ type: epochMs(), nullable: true })
  attachedAt?: number | null;
}
