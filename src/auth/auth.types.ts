import { Field, InputType, ObjectType } from 'type-graphql';
import { Terminal } from '../common/enums';
import { User } from '../users/user.types';

@ObjectType('AuthPayload')
export class AuthPayload {
  @Field(() => String)
  accessToken!: string;

  @Field(() => String)
  refreshToken!: string;

  @Field(() => Date)
  accessTokenExpiresAt!: Date;

  @Field(() => User)
  user!: User;
}

@InputType('RegisterInput')
export class RegisterInput {
  @Field(() => String, { description: "3-32 characters: letters, digits, '_', '.', '-'. Unique, case-insensitive." })
  username!: string;

  @Field(() => String, { description: '8-128 characters.' })
  password!: string;

  @Field(() => String, { description: '1-32 characters.' })
  nickname!: string;

  @Field(() => Terminal, { nullable: true, defaultValue: Terminal.WEB, description: 'The terminal of the session that registering opens.' })
  terminal?: Terminal | null;
}

@InputType('LoginInput')
export class LoginInput {
  @Field(() => String)
  username!: string;

  @Field(() => String)
  password!: string;

  @Field(() => Terminal, { nullable: true, defaultValue: Terminal.WEB })
  terminal?: Terminal | null;
}
