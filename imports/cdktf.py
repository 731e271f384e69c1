"""cdktf core and constructs, re-exported for stacks and modules."""

from cdktf import App as App
from cdktf import CloudBackend as CloudBackend
from cdktf import Fn as Fn
from cdktf import LocalBackend as LocalBackend
from cdktf import NamedCloudWorkspace as NamedCloudWorkspace
from cdktf import S3Backend as S3Backend
from cdktf import TerraformIterator as TerraformIterator
from cdktf import TerraformOutput as TerraformOutput
from cdktf import TerraformProvider as TerraformProvider
from cdktf import TerraformResourceLifecycle as TerraformResourceLifecycle
from cdktf import TerraformStack as TerraformStack
from cdktf import Token as Token
from constructs import Construct as Construct
