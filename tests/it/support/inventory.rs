//! What exists in the local AWS, read back through the SDK: the checks integration tests make
//! after running the tool.

use s3_provisioner::aws::AwsClients;

/// Run `future` to completion on a fresh current-thread runtime (tests are synchronous).
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("test runtime")
        .block_on(future)
}

/// Stacks that exist (moto also lists deleted ones).
pub async fn live_stacks(aws: &AwsClients) -> Vec<String> {
    aws.cfn
        .list_stacks()
        .send()
        .await
        .expect("ListStacks")
        .stack_summaries()
        .iter()
        .filter(|s| {
            s.stack_status()
                .map(aws_sdk_cloudformation::types::StackStatus::as_str)
                != Some("DELETE_COMPLETE")
        })
        .filter_map(|s| s.stack_name())
        .map(str::to_owned)
        .collect()
}

/// Every bucket's name.
pub async fn bucket_names(aws: &AwsClients) -> Vec<String> {
    aws.s3
        .list_buckets()
        .send()
        .await
        .expect("ListBuckets")
        .buckets()
        .iter()
        .filter_map(|b| b.name())
        .map(str::to_owned)
        .collect()
}

/// Every key under `prefix` in `bucket` (all pages).
pub async fn keys_under(aws: &AwsClients, bucket: &str, prefix: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let page = aws
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token)
            .send()
            .await
            .expect("ListObjectsV2");
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_owned),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            return keys;
        }
    }
}
