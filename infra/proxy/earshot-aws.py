#!/usr/bin/env python3
"""earshot-aws: the few AWS calls the proxy instance makes, with Python's standard library only.

The minimal Amazon Linux image has no AWS CLI, and the CLI costs about a CPU-second per call on a t4g.nano whose
baseline is 10 % of one core; task discovery runs every 10 s. So: Signature Version 4 (checked against the AWS JS
SDK's signer, @smithy/signature-v4, in infra/test/proxy-aws-sign.test.ts), credentials of the instance role from
IMDSv2, and one subcommand per job.

  ecs-tasks --cluster NAME               private IPv4 of the cluster's running, not unhealthy tasks, one a line
  dns-upsert --zone ID --name NAME       UPSERT the A record NAME (TTL 60) to this instance's public IPv4
  heartbeat --url-parameter NAME --namespace NS --metric M --dimension K=V
                                         GET the URL stored in that SSM parameter; if nginx answered (it sets
                                         X-Request-Id), put the metric with value 1
  s3-get --bucket B --key K --file F     exit 3 when there is no such object
  s3-put --bucket B --key K --file F
  public-ipv4                            this instance's public IPv4 (empty when it has none)

Tests point it elsewhere with EARSHOT_IMDS_URL and EARSHOT_AWS_ENDPOINT (one plain-HTTP stand-in for every service).
"""
import argparse
import datetime
import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.sax.saxutils

IMDS = os.environ.get("EARSHOT_IMDS_URL", "http://169.254.169.254")
ENDPOINT = os.environ.get("EARSHOT_AWS_ENDPOINT", "")
TIMEOUT = 10


class AwsError(Exception):
    def __init__(self, status, body):
        super().__init__(f"AWS answered {status}: {body[:300]}")
        self.status = status


def imds(path, token=None, method="GET"):
    headers = {"X-aws-ec2-metadata-token-ttl-seconds": "300"} if token is None else {"X-aws-ec2-metadata-token": token}
    request = urllib.request.Request(IMDS + path, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.read().decode()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return ""
        raise


def metadata(path):
    token = imds("/latest/api/token", method="PUT")
    return imds("/latest/meta-data/" + path, token)


def credentials():
    token = imds("/latest/api/token", method="PUT")
    role = imds("/latest/meta-data/iam/security-credentials/", token).split("\n")[0]
    creds = json.loads(imds("/latest/meta-data/iam/security-credentials/" + role, token))
    return creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("Token")


def _hmac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(method, url, headers, body, region, service, keys, now):
    """Returns `headers` plus the SigV4 Authorization (and x-amz-date, x-amz-security-token, x-amz-content-sha256)."""
    access_key, secret_key, session_token = keys
    parts = urllib.parse.urlsplit(url)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    signed = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    signed["host"] = parts.netloc
    signed["x-amz-date"] = amz_date
    payload_hash = hashlib.sha256(body).hexdigest()
    if service == "s3":
        signed["x-amz-content-sha256"] = payload_hash
    if session_token:
        signed["x-amz-security-token"] = session_token
    query = sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    canonical_query = "&".join(
        urllib.parse.quote(k, safe="-_.~") + "=" + urllib.parse.quote(v, safe="-_.~") for k, v in query
    )
    path = parts.path or "/"
    # The path as sent is encoded once; SigV4 encodes it once more for every service but S3.
    canonical_path = path if service == "s3" else urllib.parse.quote(path, safe="/-_.~")
    names = sorted(signed)
    canonical = "\n".join([
        method, canonical_path, canonical_query,
        "".join(f"{name}:{signed[name]}\n" for name in names),
        ";".join(names), payload_hash,
    ])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret_key).encode(), day), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = {k: v for k, v in signed.items() if k != "host"}
    out["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return out


def call(service, region, method, host, path, body=b"", headers=None, query=""):
    base = ENDPOINT or f"https://{host}"
    url = base + path + (("?" + query) if query else "")
    signed = sign(method, url, headers or {}, body, region, service, credentials(),
                  datetime.datetime.now(datetime.timezone.utc))
    request = urllib.request.Request(url, data=body if method in ("POST", "PUT") else None, method=method,
                                     headers=signed)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise AwsError(error.code, error.read().decode(errors="replace")) from None


def json_call(service, target, region, payload, version="1.1"):
    body = json.dumps(payload).encode()
    headers = {"content-type": f"application/x-amz-json-{version}", "x-amz-target": target}
    return json.loads(call(service, region, "POST", f"{service}.{region}.amazonaws.com", "/", body, headers) or b"{}")


def region():
    return os.environ.get("AWS_REGION") or metadata("placement/region")


def ecs_tasks(args):
    r = region()
    prefix = "AmazonEC2ContainerServiceV20141113."
    arns = json_call("ecs", prefix + "ListTasks", r, {"cluster": args.cluster, "desiredStatus": "RUNNING"})
    task_arns = arns.get("taskArns", [])
    if not task_arns:
        return 0
    tasks = json_call("ecs", prefix + "DescribeTasks", r, {"cluster": args.cluster, "tasks": task_arns})
    for task in tasks.get("tasks", []):
        if task.get("lastStatus") != "RUNNING" or task.get("healthStatus") == "UNHEALTHY":
            continue
        for attachment in task.get("attachments", []):
            for detail in attachment.get("details", []):
                if detail.get("name") == "privateIPv4Address":
                    print(detail.get("value"))
    return 0


def dns_upsert(args):
    address = metadata("public-ipv4").strip()
    if not address:
        print("earshot-aws: this instance has no public IPv4 address", file=sys.stderr)
        return 1
    name = xml.sax.saxutils.escape(args.name)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch>'
        "<Comment>earshot-dns at boot</Comment><Changes><Change><Action>UPSERT</Action><ResourceRecordSet>"
        f"<Name>{name}</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord>"
        f"<Value>{address}</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes>"
        "</ChangeBatch></ChangeResourceRecordSetsRequest>"
    ).encode()
    zone = urllib.parse.quote(args.zone, safe="")
    call("route53", "us-east-1", "POST", "route53.amazonaws.com", f"/2013-04-01/hostedzone/{zone}/rrset/", body,
         {"content-type": "text/xml"})
    print(f"{args.name} -> {address}")
    return 0


def heartbeat(args):
    r = region()
    parameter = json_call("ssm", "AmazonSSM.GetParameter", r, {"Name": args.url_parameter})
    url = parameter["Parameter"]["Value"]
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=TIMEOUT) as response:
            headers = response.headers
    except urllib.error.HTTPError as error:
        headers = error.headers
    except (urllib.error.URLError, OSError) as error:
        print(f"earshot-aws: {url} unreachable: {error}", file=sys.stderr)
        return 1
    if not headers.get("X-Request-Id"):
        print(f"earshot-aws: {url} did not come from nginx (no X-Request-Id)", file=sys.stderr)
        return 1
    name, _, value = args.dimension.partition("=")
    form = {
        "Action": "PutMetricData", "Version": "2010-08-01", "Namespace": args.namespace,
        "MetricData.member.1.MetricName": args.metric, "MetricData.member.1.Value": "1",
        "MetricData.member.1.Unit": "Count",
        "MetricData.member.1.Dimensions.member.1.Name": name,
        "MetricData.member.1.Dimensions.member.1.Value": value,
    }
    body = urllib.parse.urlencode(sorted(form.items())).encode()
    call("monitoring", r, "POST", f"monitoring.{r}.amazonaws.com", "/", body,
         {"content-type": "application/x-www-form-urlencoded; charset=utf-8"})
    return 0


def s3_path(args):
    return "/" + urllib.parse.quote(args.key, safe="/-_.~")


def s3_get(args):
    r = region()
    host = f"{args.bucket}.s3.{r}.amazonaws.com"
    path = (f"/{args.bucket}" if ENDPOINT else "") + s3_path(args)
    try:
        data = call("s3", r, "GET", host, path)
    except AwsError as error:
        if error.status in (403, 404):
            print(f"earshot-aws: no s3://{args.bucket}/{args.key}", file=sys.stderr)
            return 3
        raise
    with open(args.file, "wb") as out:
        out.write(data)
    return 0


def s3_put(args):
    r = region()
    with open(args.file, "rb") as source:
        data = source.read()
    host = f"{args.bucket}.s3.{r}.amazonaws.com"
    path = (f"/{args.bucket}" if ENDPOINT else "") + s3_path(args)
    call("s3", r, "PUT", host, path, data, {"content-type": "application/octet-stream"})
    return 0


def public_ipv4(_args):
    print(metadata("public-ipv4").strip())
    return 0


def main(argv):
    parser = argparse.ArgumentParser(prog="earshot-aws")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ecs-tasks")
    p.add_argument("--cluster", required=True)
    p.set_defaults(run=ecs_tasks)
    p = sub.add_parser("dns-upsert")
    p.add_argument("--zone", required=True)
    p.add_argument("--name", required=True)
    p.set_defaults(run=dns_upsert)
    p = sub.add_parser("heartbeat")
    for option in ("--url-parameter", "--namespace", "--metric", "--dimension"):
        p.add_argument(option, required=True)
    p.set_defaults(run=heartbeat)
    for command, run in (("s3-get", s3_get), ("s3-put", s3_put)):
        p = sub.add_parser(command)
        for option in ("--bucket", "--key", "--file"):
            p.add_argument(option, required=True)
        p.set_defaults(run=run)
    sub.add_parser("public-ipv4").set_defaults(run=public_ipv4)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (AwsError, urllib.error.URLError, OSError, KeyError, ValueError) as error:
        print(f"earshot-aws {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
