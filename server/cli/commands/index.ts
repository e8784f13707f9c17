// The table of commands, in the order `gatehouse help` lists them.
import type { Command } from '../command.ts';
import { clientsCreate, clientsDelete, clientsList } from './clients.ts';
import { keysList, keysRotate } from './keys.ts';
import { migrate } from './migrate.ts';
import { userCreate, userDisable, userEnable, userList, userResetMfa, userResetPassword } from './users.ts';

export const COMMANDS: readonly Command[] = [
  migrate,
  userCreate,
  userList,
  userDisable,
  userEnable,
  userResetPassword,
  userResetMfa,
  clientsCreate,
  clientsList,
  clientsDelete,
  keysRotate,
  keysList,
];
