import { ArgsType, Field, ID, ObjectType } from 'type-graphql';
import { PageArgs } from '../common/paging';

/** One admin action, as `auditLog` shows it. */
@ObjectType('AuditEntry', { description: 'One administrative action: who did what to which subject, when and why. Admins only.' })
export class AuditEntry {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { nullable: true, description: 'The admin who acted; null for the host’s `npm run admin`.' })
  actorId!: string | null;

  @Field({ description: 'What was done, e.g. GRANT_ADMIN, BAN_USER, UNBAN_GROUP.' })
  action!: string;

  @Field({ description: 'USER, GROUP, WORD_LIST, SERVICE_ACCOUNT...' })
  subjectType!: string;

  @Field(() => ID, { nullable: true })
  subjectId!: string | null;

  @Field(() => String, { nullable: true })
  reason!: string | null;

  @Field(() => String, { nullable: true, description: 'A JSON document with what else the action carried.' })
  details!: string | null;

  @Field()
  createdAt!: Date;
}

/** The filters and paging of `auditLog`. */
@ArgsType()
export class AuditLogArgs extends PageArgs {
  @Field(() => ID, { nullable: true, description: 'Only this admin’s actions.' })
  actorId?: string | null;

  @Field(() => String, { nullable: true })
  action?: string | null;

  @Field(() => String, { nullable: true })
  subjectType?: string | null;

  @Field(() => ID, { nullable: true })
  subjectId?: string | null;
}
