import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { MessageType } from '../messages/message.types';

@InputType('CreateUploadInput')
export class CreateUploadInput {
  @Field(() => String, { description: '1-255 characters, no path separators or control characters.' })
  filename!: string;

  @Field(() => String, { description: 'type/subtype. IMAGE: image/jpeg, image/png, image/gif or image/webp; VOICE: audio/*; VIDEO: video/*; FILE: any.' })
  contentType!: string;

  @Field(() => Int, { description: 'Bytes: the most the PUT may carry; at most the limit of the type (default IMAGE 10 MiB, VOICE 5 MiB, FILE and VIDEO 100 MiB).' })
  size!: number;

  @Field(() => MessageType, {
    nullable: true,
    description: 'What the file will be sent as; decides the size limit. Default: IMAGE for image/*, VOICE for audio/*, VIDEO for video/*, else FILE.',
  })
  type?: MessageType | null;
}

@ObjectType('HttpHeader')
export class HttpHeader {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  value!: string;
}

@ObjectType('Upload')
export class Upload {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "PUT the file's bytes here, with the headers below, before expiresAt. Accepts one PUT of at most maxBytes." })
  uploadUrl!: string;

  @Field(() => String, {
    description:
      "Where the file can be read once uploaded; put this in an IMAGE/FILE/VOICE/VIDEO message's content. GET with the bearer token answers 302 to a signed URL for the uploader (and any signed-in user once it is an avatar).",
  })
  url!: string;

  @Field(() => Date)
  expiresAt!: Date;

  @Field(() => Int, { description: 'The most bytes the PUT may carry: the declared size.' })
  maxBytes!: number;

  @Field(() => [HttpHeader], { description: 'Headers the PUT must carry (Content-Type).' })
  headers!: HttpHeader[];
}

@ObjectType('Media', { description: "An attachment of a message as the server measured it, with short-lived signed URLs." })
export class Media {
  @Field(() => ID)
  uploadId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Int, { description: 'Bytes, measured.' })
  size!: number;

  @Field(() => String, { description: 'Sniffed from the bytes for IMAGE, VOICE and VIDEO; as declared for FILE.' })
  contentType!: string;

  @Field(() => Int, { nullable: true, description: 'Measured for images, client-declared for videos.' })
  width?: number | null;

  @Field(() => Int, { nullable: true })
  height?: number | null;

  @Field(() => Int, { nullable: true, description: 'VOICE and VIDEO, as declared by the sender.' })
  durationMs?: number | null;

  @Field(() => String, { description: 'Signed GET URL, valid until expiresAt.' })
  url!: string;

  @Field(() => String, { nullable: true, description: 'Images: a WebP of at most 256 px on the long side and 50 KB, signed like url.' })
  thumbnailUrl?: string | null;

  @Field(() => Date)
  expiresAt!: Date;
}
