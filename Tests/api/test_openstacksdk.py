"""openstacksdk (auth_type none + endpoint) against granary."""
import hashlib
import os


def test_sdk_create_upload_download_delete(sdk):
    data = os.urandom(3 * 1024 * 1024)
    image = sdk.image.create_image(name="sdk", disk_format="raw", container_format="bare", data=data)
    image = sdk.image.get_image(image.id)
    assert image.status == "active"
    assert image.size == len(data)
    assert image.hash_value == hashlib.sha512(data).hexdigest()
    downloaded = sdk.image.download_image(image)
    assert downloaded.content == data
    image = sdk.image.update_image(image, name="sdk-renamed")
    assert sdk.image.get_image(image.id).name == "sdk-renamed"
    assert any(i.id == image.id for i in sdk.image.images())
    sdk.image.delete_image(image)
    assert sdk.image.find_image(image.id) is None
