import { registerEnumType } from 'type-graphql';

/** The kinds of device a session runs on; one live session per user and terminal. */
export enum Terminal {
  WEB = 'WEB',
  APP = 'APP',
  PC = 'PC',
}
registerEnumType(Terminal, { name: 'Terminal' });

export enum ConversationType {
  PRIVATE = 'PRIVATE',
  GROUP = 'GROUP',
}
registerEnumType(ConversationType, { name: 'ConversationType' });
