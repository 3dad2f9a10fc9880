"""`iamscope collect`: a live snapshot of an AWS account (boto3) and a Kubernetes cluster (the official
client, the `live` extra) written in exactly the input formats of DESIGN.md §3, so that a live run can
be replayed offline. Fetch only: every module here talks to an API and returns raw JSON as the AWS CLI
or kubectl would print it; what it means is the readers' job. Metadata only: no call that returns a
secret's value exists here (tests/collect checks the exact operations used)."""
