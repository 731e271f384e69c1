"""Operations tools (boto3): state and OIDC bootstrap, deploys, rollback, smoke tests, plan comments."""
