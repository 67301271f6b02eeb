import type { Role } from '@aether/protocol';

export type ApiKeyRow = {
  id: string;
  tenant_id: string;
  name: string;
  role: Role;
  scopes: string[];
  secret_hash: string;
  created_by: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
};

export type OperatorKeyRow = {
  id: string;
  name: string;
  secret_hash: string;
  created_at: Date;
  revoked_at: Date | null;
};

export type RefreshTokenRow = {
  id: string;
  tenant_id: string;
  family_id: string;
  principal_type: 'user' | 'api_key';
  principal_id: string;
  secret_hash: string;
  issued_at: Date;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
};

export type AuthTables = {
  api_keys: ApiKeyRow;
  operator_keys: OperatorKeyRow;
  refresh_tokens: RefreshTokenRow;
};
