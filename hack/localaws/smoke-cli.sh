#!/usr/bin/env bash
# Builds the seed's whole pipeline by hand with the AWS CLI against a running
# localaws, POSTs an image request to the local invoke URL and waits for the
# thumbnail: the check that the stack serves what the controller will create.
#
# Usage: hack/localaws/smoke-cli.sh IMAGE [ZIP]
#   IMAGE  a JPEG or PNG to upload as the source image
#   ZIP    the function's deployment package (default: the x86_64 or arm64
#          bundle in lambda/bundle/dist matching this machine)
# Needs /usr/bin/aws (apt-get install awscli), curl and a stack on
# http://127.0.0.1:4566 (bin/localaws).
set -euo pipefail

image=${1:?usage: $0 IMAGE [ZIP]}
case "$(uname -m)" in aarch64|arm64) arch=arm64 ;; *) arch=x86_64 ;; esac
zip=${2:-lambda/bundle/dist/bootstrap-$arch.zip}

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} AWS_PAGER=""
aws() { /usr/bin/aws --endpoint-url http://127.0.0.1:4566 "$@"; }

run=$(date +%s)
src=image-uploads-$run
dst=image-resized-$run

aws s3 mb "s3://$src" >/dev/null
aws s3 mb "s3://$dst" >/dev/null
key=$(basename "$image")
aws s3 cp "$image" "s3://$src/$key" >/dev/null

trust() { printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"%s"},"Action":"sts:AssumeRole"}]}' "$1"; }
lambda_role=$(aws iam create-role --role-name "resize-lambda-$run" --assume-role-policy-document "$(trust lambda.amazonaws.com)" --query Role.Arn --output text)
sfn_role=$(aws iam create-role --role-name "resize-sfn-$run" --assume-role-policy-document "$(trust states.amazonaws.com)" --query Role.Arn --output text)
api_role=$(aws iam create-role --role-name "resize-api-$run" --assume-role-policy-document "$(trust apigateway.amazonaws.com)" --query Role.Arn --output text)
aws iam put-role-policy --role-name "resize-lambda-$run" --policy-name s3 \
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}'

fn=$(aws lambda create-function --function-name "ResizeImage-$run" --runtime provided.al2023 --handler bootstrap \
  --architectures "$arch" --memory-size 1024 --timeout 30 --role "$lambda_role" --zip-file "fileb://$zip" \
  --query '[FunctionArn,State]' --output text)
read -r fn_arn fn_state <<<"$fn"
[ "$fn_state" = Active ] || { echo "function state: $fn_state" >&2; exit 1; }

definition=$(cat <<EOF
{"StartAt":"ResizeImage","States":{
 "ResizeImage":{"Type":"Task","Resource":"$fn_arn","Next":"CheckResult"},
 "CheckResult":{"Type":"Choice","Choices":[{"Variable":"\$.status","StringEquals":"success","Next":"Success"}],"Default":"Fail"},
 "Success":{"Type":"Succeed"},
 "Fail":{"Type":"Fail","Error":"ResizeFailed"}}}
EOF
)
sm=$(aws stepfunctions create-state-machine --name "ImageResizeWorkflow-$run" --definition "$definition" \
  --role-arn "$sfn_role" --query stateMachineArn --output text)

api=$(aws apigateway create-rest-api --name "ImageResizeAPI-$run" --query id --output text)
root=$(aws apigateway get-resources --rest-api-id "$api" --query 'items[?path==`/`].id' --output text)
res=$(aws apigateway create-resource --rest-api-id "$api" --parent-id "$root" --path-part resize --query id --output text)
aws apigateway put-method --rest-api-id "$api" --resource-id "$res" --http-method POST --authorization-type NONE >/dev/null
template=$(printf '{"stateMachineArn": "%s", "name": "$context.requestId", "input": "$util.escapeJavaScript($input.body)"}' "$sm")
aws apigateway put-integration --rest-api-id "$api" --resource-id "$res" --http-method POST --type AWS \
  --integration-http-method POST --uri "arn:aws:apigateway:$AWS_DEFAULT_REGION:states:action/StartExecution" \
  --credentials "$api_role" --request-templates "{\"application/json\": $(printf '%s' "$template" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}" >/dev/null
aws apigateway put-method-response --rest-api-id "$api" --resource-id "$res" --http-method POST --status-code 200 >/dev/null
aws apigateway put-integration-response --rest-api-id "$api" --resource-id "$res" --http-method POST --status-code 200 --selection-pattern "" >/dev/null
aws apigateway create-deployment --rest-api-id "$api" --stage-name prod >/dev/null

url="http://127.0.0.1:4566/restapis/$api/prod/_user_request_/resize"
body=$(printf '{"image_key":"%s","source_bucket":"%s","destination_bucket":"%s"}' "$key" "$src" "$dst")

start=$(date +%s%N)
answer=$(curl -sS -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' -d "$body" "$url")
code=${answer##*$'\n'}
echo "POST $url -> $code ${answer%$'\n'*}"
[ "$code" = 200 ] || exit 1

for _ in $(seq 1 600); do
  if thumb=$(aws s3api list-objects-v2 --bucket "$dst" --query 'Contents[0].Key' --output text 2>/dev/null) && [ "$thumb" != None ]; then
    echo "thumbnail s3://$dst/$thumb after $(( ($(date +%s%N) - start) / 1000000 )) ms (polled with the CLI, which adds its own start-up)"
    exit 0
  fi
  sleep 0.05
done
echo "no thumbnail in s3://$dst after 30s" >&2
exit 1
