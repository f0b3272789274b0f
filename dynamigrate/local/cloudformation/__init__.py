"""The local CloudFormation: what CloudFormation does with a template of migrations, locally.

- `operation`: which custom-resource request goes out in which phase and order (held by the
  conformance suite to CloudFormation's documented sequences);
- `protocol`: CloudFormation's side of the custom-resource protocol (the ResponseURL, the requests);
- `deployer`: a deploy, update, rollback or delete of one stack;
- `resources`: the template's tables and functions, created before its migrations;
- `intrinsics`: Ref, Fn::GetAtt, Fn::Sub and the rest, resolved as CloudFormation would;
- `responses`: the Query-API answers `local serve` gives for its stacks (DescribeStackResource).
"""
