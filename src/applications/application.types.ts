import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Group } from '../groups/group.types';
import { User } from '../users/user.types';

export enum ApplicationType {
  FRIEND = 'FRIEND',
  GROUP = 'GROUP',
}
registerEnumType(ApplicationType, { name: 'ApplicationType' });

export enum ApplicationStatus {
  PENDING = 'PENDING',
  ACCEPTED = 'ACCEPTED',
  REJECTED = 'REJECTED',
}
registerEnumType(ApplicationStatus, { name: 'ApplicationStatus' });

export enum ApplicationDirection {
  INCOMING = 'INCOMING',
  OUTGOING = 'OUTGOING',
}
registerEnumType(ApplicationDirection, {
  name: 'ApplicationDirection',
  valuesConfig: {
    INCOMING: { description: 'Applications that the viewer may accept or reject.' },
    OUTGOING: { description: 'Applications that the viewer sent.' },
  },
});

@ObjectType('Application')
export class Application {
  @Field(() => ID)
  id!: string;

  @Field(() => ApplicationType)
  type!: ApplicationType;

  @Field(() => User)
  applicant!: User;

  @Field(() => User, { nullable: true, description: 'For FRIEND applications: the user asked.' })
  target?: User | null;

  @Field(() => Group, { nullable: true, description: 'For GROUP applications: the group asked to join.' })
  group?: Group | null;

  @Field(() => String, { nullable: true })
  message?: string | null;

  @Field(() => ApplicationStatus)
  status!: ApplicationStatus;

  @Field(() => Date)
  createdAt!: Date | string;
}
