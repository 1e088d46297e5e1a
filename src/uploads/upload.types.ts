import { Field, InputType, Int, ObjectType } from 'type-graphql';

@InputType('CreateUploadInput')
export class CreateUploadInput {
  @Field(() => String)
  filename!: string;

  @Field(() => String)
  contentType!: string;

  @Field(() => Int, { description: 'Bytes.' })
  size!: number;
}

@ObjectType('Upload')
export class Upload {
  @Field(() => String, { description: "PUT the file's bytes here, with the same Content-Type, before expiresAt." })
  uploadUrl!: string;

  @Field(() => String, { description: "Where the file can be read once uploaded; put this in an IMAGE/FILE/VOICE/VIDEO message's content." })
  url!: string;

  @Field(() => Date)
  expiresAt!: Date;
}
