"""Reference data of the demo province: departments and agencies, fields (lĩnh vực) and procedures.

Departments follow the provincial organisation after the 2025 reorganisation (e.g. Planning and
Investment merged into Sở Tài chính; Agriculture and Natural Resources into Sở Nông nghiệp và Môi
trường; Transport into Sở Xây dựng; Labour split between Sở Nội vụ and Sở Y tế), plus vertical
agencies and utilities that process dossiers on the public-service portal. Every commune people's
committee is a processing unit too (kind "xa", code "UBND-<commune code>").

Procedures: real-sounding names per field with a statutory time in working days; codes are shaped
like national MaTTHC codes ("1.001234") but are generated, not the real catalogue numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: (code, name, name_en, kind) of provincial departments and agencies.
DEPARTMENTS: tuple[tuple[str, str, str, str], ...] = (
    ("VPUBND", "Văn phòng Ủy ban nhân dân tỉnh", "Office of the Provincial People's Committee", "ban"),
    ("SNV", "Sở Nội vụ", "Department of Home Affairs", "so"),
    ("STP", "Sở Tư pháp", "Department of Justice", "so"),
    ("STC", "Sở Tài chính", "Department of Finance (incl. former Planning and Investment)", "so"),
    ("SCT", "Sở Công Thương", "Department of Industry and Trade", "so"),
    ("SNNMT", "Sở Nông nghiệp và Môi trường", "Department of Agriculture and Environment", "so"),
    ("SXD", "Sở Xây dựng", "Department of Construction (incl. former Transport)", "so"),
    ("SKHCN", "Sở Khoa học và Công nghệ", "Department of Science and Technology", "so"),
    ("SGDDT", "Sở Giáo dục và Đào tạo", "Department of Education and Training", "so"),
    ("SYT", "Sở Y tế", "Department of Health", "so"),
    ("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "Department of Culture, Sports and Tourism", "so"),
    ("SDTTG", "Sở Dân tộc và Tôn giáo", "Department of Ethnic Minorities and Religions", "so"),
    ("TTT", "Thanh tra tỉnh", "Provincial Inspectorate", "so"),
    ("BQLKKT", "Ban Quản lý Khu kinh tế tỉnh", "Economic Zone Management Board", "ban"),
    ("VPDKDD", "Văn phòng Đăng ký đất đai tỉnh", "Land Registration Office", "ban"),
    ("CCCNTY", "Chi cục Chăn nuôi và Thú y", "Sub-department of Livestock and Veterinary", "ban"),
    (
        "CCTTBVTV",
        "Chi cục Trồng trọt và Bảo vệ thực vật",
        "Sub-department of Crops and Plant Protection",
        "ban",
    ),
    ("CCKL", "Chi cục Kiểm lâm", "Forest Protection Sub-department", "ban"),
    ("CCATTP", "Chi cục An toàn vệ sinh thực phẩm", "Food Safety Sub-department", "ban"),
    ("TTTGPL", "Trung tâm Trợ giúp pháp lý nhà nước", "State Legal Aid Centre", "ban"),
    ("CAT", "Công an tỉnh", "Provincial Police", "nganh"),
    ("BHXH", "Bảo hiểm xã hội tỉnh", "Provincial Social Insurance", "nganh"),
    ("THUE", "Thuế tỉnh", "Provincial Tax Office (formerly Cục Thuế)", "nganh"),
    ("KBNN", "Kho bạc Nhà nước khu vực", "Regional State Treasury", "nganh"),
    ("HQ", "Hải quan khu vực", "Regional Customs", "nganh"),
    ("NHNN", "Ngân hàng Nhà nước khu vực", "Regional State Bank branch", "nganh"),
    ("BCHQS", "Bộ Chỉ huy Quân sự tỉnh", "Provincial Military Command", "nganh"),
    ("PCDL", "Công ty Điện lực tỉnh", "Provincial Power Company", "nganh"),
    ("CTCN", "Công ty Cấp thoát nước", "Water Supply Company", "nganh"),
)

#: Departments with a deliberately weaker or stronger on-time record (others are drawn at random).
ON_TIME_BASE = {"VPDKDD": 0.80, "SNNMT": 0.86, "SXD": 0.88, "TTT": 0.87, "STC": 0.97, "THUE": 0.98}


@dataclass(frozen=True)
class Field:
    """A field of procedures: who processes it, at which level, how often, how long, how online."""

    name: str
    department: str
    by_commune: bool  # processed by each commune's people's committee
    days: tuple[int, ...]  # choices of statutory working days
    weight: float  # share of all dossiers (relative)
    online: float  # ceiling of the online share once online services are mature
    procedures: tuple[str, ...]


FIELDS: tuple[Field, ...] = (
    # ------------------------------------------------------------------ commune level
    Field("Hộ tịch", "STP", True, (0, 1, 3, 5), 15, 0.8, (
        "Đăng ký khai sinh", "Đăng ký kết hôn", "Đăng ký khai tử", "Đăng ký nhận cha, mẹ, con",
        "Đăng ký giám hộ", "Đăng ký chấm dứt giám hộ",
        "Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch",
        "Đăng ký lại khai sinh", "Đăng ký lại kết hôn", "Đăng ký lại khai tử",
        "Cấp Giấy xác nhận tình trạng hôn nhân", "Cấp bản sao trích lục hộ tịch",
        "Đăng ký khai sinh kết hợp nhận cha, mẹ, con",
        "Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
        "Liên thông đăng ký khai tử, xóa đăng ký thường trú, hưởng chế độ tử tuất",
        "Đăng ký khai sinh có yếu tố nước ngoài", "Đăng ký kết hôn có yếu tố nước ngoài",
        "Ghi vào Sổ hộ tịch việc ly hôn đã được giải quyết ở nước ngoài",
    )),
    Field("Chứng thực", "STP", True, (0, 1, 2), 18, 0.3, (
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản", "Chứng thực chữ ký trong các giấy tờ, văn bản",
        "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản",
        "Chứng thực hợp đồng, giao dịch liên quan đến thực hiện quyền của người sử dụng đất, nhà ở",
        "Chứng thực văn bản thỏa thuận phân chia di sản", "Chứng thực văn bản khai nhận di sản",
        "Chứng thực việc sửa đổi, bổ sung, hủy bỏ hợp đồng, giao dịch", "Chứng thực di chúc",
        "Cấp bản sao có chứng thực từ bản chính hợp đồng, giao dịch đã được chứng thực",
        "Chứng thực văn bản từ chối nhận di sản", "Chứng thực chữ ký người dịch",
    )),
    Field("Đăng ký, quản lý cư trú", "CAT", False, (0, 1, 3, 7), 10, 0.9, (
        "Đăng ký thường trú", "Đăng ký tạm trú", "Xóa đăng ký thường trú", "Xóa đăng ký tạm trú",
        "Gia hạn tạm trú", "Khai báo tạm vắng", "Thông báo lưu trú", "Xác nhận thông tin về cư trú",
        "Khai báo thông tin về cư trú đối với người chưa đủ điều kiện đăng ký thường trú, tạm trú",
    )),
    Field("Bảo trợ xã hội", "SYT", True, (7, 10, 15, 20), 2, 0.4, (
        "Trợ giúp xã hội thường xuyên đối với đối tượng bảo trợ xã hội",
        "Thôi hưởng trợ cấp xã hội hàng tháng",
        "Điều chỉnh trợ cấp xã hội hàng tháng khi đối tượng thay đổi nơi cư trú",
        "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội",
        "Xác định mức độ khuyết tật và cấp Giấy xác nhận khuyết tật", "Đổi, cấp lại Giấy xác nhận khuyết tật",
        "Trợ giúp xã hội khẩn cấp về hỗ trợ làm nhà ở, sửa chữa nhà ở",
        "Công nhận hộ nghèo, hộ cận nghèo phát sinh trong năm",
    )),
    Field("Thành lập và hoạt động của hộ kinh doanh", "STC", True, (3,), 2, 0.85, (
        "Đăng ký thành lập hộ kinh doanh", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh",
        "Thông báo tạm ngừng hoạt động hộ kinh doanh", "Chấm dứt hoạt động hộ kinh doanh",
        "Cấp lại Giấy chứng nhận đăng ký hộ kinh doanh",
    )),
    Field("Đất đai (cấp xã)", "SNNMT", True, (10, 15, 20, 30), 2, 0.35, (
        "Hòa giải tranh chấp đất đai", "Đăng ký đất đai, tài sản gắn liền với đất lần đầu",
        "Chuyển mục đích sử dụng đất không phải xin phép", "Giao đất, cho thuê đất đối với cá nhân",
        "Thu hồi đất do người sử dụng đất tự nguyện trả lại", "Gia hạn sử dụng đất nông nghiệp",
    )),
    Field("Người có công", "SNV", True, (5, 12, 20), 1, 0.4, (
        "Giải quyết chế độ trợ cấp thờ cúng liệt sĩ", "Giải quyết chế độ mai táng phí đối với cựu chiến binh",
        "Cấp giấy xác nhận thân nhân liệt sĩ",
        "Hưởng trợ cấp một lần khi người có công với cách mạng từ trần",
    )),
    Field("Xây dựng (cấp xã)", "SXD", True, (15, 20), 1.5, 0.6, (
        "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ", "Cấp giấy phép sửa chữa, cải tạo nhà ở riêng lẻ",
        "Gia hạn giấy phép xây dựng", "Cấp lại giấy phép xây dựng", "Điều chỉnh giấy phép xây dựng",
    )),
    Field("Giáo dục (cấp xã)", "SGDDT", True, (5, 10, 15), 0.8, 0.6, (
        "Thành lập nhóm trẻ, lớp mẫu giáo độc lập", "Xét, cấp học bổng chính sách",
        "Chuyển trường đối với học sinh trung học cơ sở", "Hỗ trợ ăn trưa đối với trẻ em mẫu giáo",
    )),
    Field("Thi đua, khen thưởng (cấp xã)", "SNV", True, (10, 20), 0.3, 0.3, (
        "Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp xã về thành tích thực hiện nhiệm vụ",
        "Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp xã về thành tích đột xuất",
        "Tặng danh hiệu Lao động tiên tiến",
    )),
    Field("Nghĩa vụ quân sự", "BCHQS", True, (1, 3, 10), 1, 0.5, (
        "Đăng ký nghĩa vụ quân sự lần đầu", "Đăng ký nghĩa vụ quân sự chuyển đi, chuyển đến",
        "Tạm hoãn gọi nhập ngũ và miễn gọi nhập ngũ", "Đăng ký nghĩa vụ quân sự bổ sung",
    )),
    # ------------------------------------------------------------------ provincial level
    Field("Lý lịch tư pháp", "STP", False, (10,), 3, 0.9, (
        "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam",
        "Cấp Phiếu lý lịch tư pháp cho cơ quan tiến hành tố tụng",
        "Cấp Phiếu lý lịch tư pháp cho cơ quan nhà nước, tổ chức chính trị, tổ chức chính trị - xã hội",
    )),
    Field("Công chứng, luật sư", "STP", False, (5, 7, 10, 20), 0.3, 0.7, (
        "Đăng ký hoạt động Văn phòng công chứng", "Đăng ký hành nghề và cấp Thẻ công chứng viên",
        "Thay đổi nội dung đăng ký hoạt động Văn phòng công chứng", "Cấp lại Thẻ công chứng viên",
        "Đăng ký hoạt động của tổ chức hành nghề luật sư", "Đăng ký hoạt động của Trung tâm tư vấn pháp luật",
        "Thay đổi người đại diện theo pháp luật của Văn phòng luật sư",
    )),
    Field("Trợ giúp pháp lý", "TTTGPL", False, (2, 3, 10), 0.2, 0.5, (
        "Thực hiện trợ giúp pháp lý", "Rút yêu cầu trợ giúp pháp lý của người được trợ giúp pháp lý",
        "Giải quyết khiếu nại về trợ giúp pháp lý",
    )),
    Field("Thành lập và hoạt động doanh nghiệp", "STC", False, (3,), 3, 1.0, (
        "Đăng ký thành lập doanh nghiệp tư nhân", "Đăng ký thành lập công ty TNHH một thành viên",
        "Đăng ký thành lập công ty TNHH hai thành viên trở lên", "Đăng ký thành lập công ty cổ phần",
        "Đăng ký thay đổi người đại diện theo pháp luật", "Đăng ký thay đổi vốn điều lệ",
        "Đăng ký thay đổi địa chỉ trụ sở chính", "Thông báo thay đổi ngành, nghề kinh doanh",
        "Đăng ký hoạt động chi nhánh, văn phòng đại diện", "Thông báo tạm ngừng kinh doanh",
        "Giải thể doanh nghiệp", "Cấp lại Giấy chứng nhận đăng ký doanh nghiệp",
    )),
    Field("Đầu tư tại Việt Nam", "STC", False, (15, 25, 30), 0.3, 0.8, (
        "Chấp thuận chủ trương đầu tư của Ủy ban nhân dân tỉnh",
        "Cấp Giấy chứng nhận đăng ký đầu tư đối với dự án không thuộc diện chấp thuận chủ trương đầu tư",
        "Điều chỉnh Giấy chứng nhận đăng ký đầu tư", "Gia hạn thời hạn hoạt động của dự án đầu tư",
        "Chấm dứt hoạt động dự án đầu tư", "Điều chỉnh tiến độ thực hiện dự án đầu tư",
    )),
    Field("Quản lý công sản", "STC", False, (15, 30), 0.3, 0.6, (
        "Quyết định mua sắm tài sản công", "Quyết định thanh lý tài sản công",
        "Quyết định điều chuyển tài sản công", "Thẩm định giá đất cụ thể",
    )),
    Field("Hoạt động xây dựng", "SXD", False, (15, 20, 25, 30), 0.8, 0.7, (
        "Thẩm định báo cáo nghiên cứu khả thi đầu tư xây dựng",
        "Thẩm định thiết kế xây dựng triển khai sau thiết kế cơ sở",
        "Cấp giấy phép xây dựng công trình cấp I, cấp II", "Cấp chứng chỉ hành nghề hoạt động xây dựng",
        "Cấp chứng chỉ năng lực hoạt động xây dựng", "Kiểm tra công tác nghiệm thu hoàn thành công trình",
        "Cấp giấy phép di dời công trình",
    )),
    Field("Nhà ở và kinh doanh bất động sản", "SXD", False, (15, 30), 0.3, 0.6, (
        "Chấp thuận chủ trương đầu tư dự án nhà ở", "Cho thuê nhà ở công vụ",
        "Cấp chứng chỉ hành nghề môi giới bất động sản", "Xác nhận đối tượng mua nhà ở xã hội",
    )),
    Field("Đường bộ, vận tải", "SXD", False, (2, 5, 7, 10), 1.5, 0.8, (
        "Cấp Giấy phép kinh doanh vận tải bằng xe ô tô", "Cấp phù hiệu xe ô tô kinh doanh vận tải",
        "Cấp giấy phép lưu hành xe quá tải trọng, xe quá khổ giới hạn",
        "Chấp thuận xây dựng công trình thiết yếu trong phạm vi bảo vệ kết cấu hạ tầng giao thông",
        "Cấp phép thi công nút giao đấu nối vào quốc lộ", "Đăng ký phương tiện thủy nội địa lần đầu",
    )),
    Field("Đất đai", "VPDKDD", False, (3, 10, 15, 20, 30), 12, 0.45, (
        "Đăng ký biến động quyền sử dụng đất do chuyển nhượng, tặng cho, thừa kế",
        "Cấp lại Giấy chứng nhận quyền sử dụng đất do bị mất", "Cấp đổi Giấy chứng nhận quyền sử dụng đất",
        "Đăng ký thế chấp quyền sử dụng đất, tài sản gắn liền với đất", "Xóa đăng ký thế chấp",
        "Đính chính Giấy chứng nhận đã cấp", "Tách thửa hoặc hợp thửa đất",
        "Đăng ký biến động do thay đổi thông tin người sử dụng đất", "Cung cấp thông tin, dữ liệu đất đai",
    )),
    Field("Môi trường", "SNNMT", False, (15, 20, 30), 0.3, 0.7, (
        "Thẩm định báo cáo đánh giá tác động môi trường", "Cấp giấy phép môi trường",
        "Cấp đổi, điều chỉnh giấy phép môi trường", "Cấp lại giấy phép môi trường",
    )),
    Field("Tài nguyên nước, khoáng sản", "SNNMT", False, (20, 30), 0.2, 0.6, (
        "Cấp giấy phép khai thác, sử dụng nước mặt", "Cấp giấy phép khai thác nước dưới đất",
        "Cấp giấy phép thăm dò khoáng sản", "Cấp giấy phép khai thác khoáng sản", "Đóng cửa mỏ khoáng sản",
    )),
    Field("Thú y", "CCCNTY", False, (3, 5, 10, 20), 0.8, 0.7, (
        "Cấp Giấy chứng nhận điều kiện vệ sinh thú y", "Cấp chứng chỉ hành nghề thú y",
        "Cấp giấy chứng nhận cơ sở an toàn dịch bệnh động vật",
        "Kiểm dịch động vật, sản phẩm động vật vận chuyển ra khỏi địa bàn cấp tỉnh",
    )),
    Field("Trồng trọt và bảo vệ thực vật", "CCTTBVTV", False, (5, 10, 20), 1, 0.6, (
        "Cấp Giấy chứng nhận đủ điều kiện buôn bán thuốc bảo vệ thực vật", "Cấp mã số vùng trồng",
        "Cấp Giấy chứng nhận đủ điều kiện buôn bán phân bón", "Công nhận cây đầu dòng, vườn cây đầu dòng",
        "Cấp Giấy chứng nhận đủ điều kiện sản xuất phân bón",
    )),
    Field("Lâm nghiệp", "CCKL", False, (5, 10, 15, 20), 0.3, 0.5, (
        "Phê duyệt phương án quản lý rừng bền vững", "Phê duyệt phương án khai thác thực vật rừng",
        "Cấp mã số cơ sở nuôi, trồng các loài động vật, thực vật hoang dã", "Xác nhận bảng kê lâm sản",
    )),
    Field("Thủy lợi", "SNNMT", False, (15, 20), 0.1, 0.5, (
        "Cấp giấy phép cho các hoạt động trong phạm vi bảo vệ công trình thủy lợi",
        "Phê duyệt phương án ứng phó thiên tai cho công trình vùng hạ du đập",
    )),
    Field("Khám bệnh, chữa bệnh", "SYT", False, (10, 20, 30), 0.5, 0.8, (
        "Cấp giấy phép hành nghề khám bệnh, chữa bệnh", "Cấp giấy phép hoạt động đối với phòng khám đa khoa",
        "Cấp giấy phép hoạt động đối với phòng khám chuyên khoa", "Điều chỉnh giấy phép hoạt động",
        "Cấp lại giấy phép hành nghề khám bệnh, chữa bệnh",
    )),
    Field("Dược phẩm, mỹ phẩm", "SYT", False, (5, 10, 20, 30), 0.6, 0.8, (
        "Cấp Chứng chỉ hành nghề dược", "Cấp Giấy chứng nhận đủ điều kiện kinh doanh dược cho nhà thuốc",
        "Cấp lại Chứng chỉ hành nghề dược", "Tiếp nhận Phiếu công bố sản phẩm mỹ phẩm",
    )),
    Field("An toàn thực phẩm", "CCATTP", False, (7, 15, 20), 0.6, 0.7, (
        "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", "Đăng ký bản công bố sản phẩm",
        "Cấp lại Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm",
    )),
    Field("Lao động, việc làm", "SNV", False, (3, 5, 20), 2.5, 0.7, (
        "Giải quyết hưởng trợ cấp thất nghiệp", "Tạm dừng hưởng trợ cấp thất nghiệp",
        "Chuyển nơi hưởng trợ cấp thất nghiệp", "Cấp giấy phép lao động cho người lao động nước ngoài",
        "Cấp lại giấy phép lao động", "Đăng ký nội quy lao động",
        "Xác nhận người lao động nước ngoài không thuộc diện cấp giấy phép lao động",
    )),
    Field("Thi đua, khen thưởng", "SNV", False, (20, 30), 0.4, 0.3, (
        "Tặng Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh", "Tặng danh hiệu Chiến sĩ thi đua cấp tỉnh",
        "Tặng Cờ thi đua của Ủy ban nhân dân tỉnh", "Thành lập hội", "Phê duyệt điều lệ hội",
    )),
    Field("Giáo dục và Đào tạo", "SGDDT", False, (3, 5, 10, 15, 20), 1.5, 0.8, (
        "Chuyển trường đối với học sinh trung học phổ thông", "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc",
        "Chỉnh sửa nội dung văn bằng, chứng chỉ", "Công nhận văn bằng do cơ sở giáo dục nước ngoài cấp",
        "Cho phép trung tâm ngoại ngữ, tin học hoạt động giáo dục", "Cấp phép tổ chức hoạt động dạy thêm",
        "Thành lập trường trung học phổ thông tư thục", "Đăng ký hoạt động giáo dục nghề nghiệp",
    )),
    Field("Văn hóa, thể thao, du lịch", "SVHTTDL", False, (5, 7, 10, 15), 0.6, 0.7, (
        "Cấp Giấy phép kinh doanh dịch vụ karaoke", "Cấp Giấy phép kinh doanh dịch vụ lữ hành nội địa",
        "Công nhận hạng cơ sở lưu trú du lịch", "Cấp thẻ hướng dẫn viên du lịch",
        "Cấp Giấy chứng nhận đủ điều kiện kinh doanh hoạt động thể thao",
        "Thông báo tổ chức biểu diễn nghệ thuật", "Cấp giấy phép triển lãm mỹ thuật",
        "Đăng ký tổ chức lễ hội",
    )),
    Field("Công Thương", "SCT", False, (3, 5, 7, 10, 15), 0.8, 0.8, (
        "Cấp Giấy phép bán lẻ sản phẩm thuốc lá", "Cấp Giấy phép bán buôn rượu",
        "Cấp Giấy chứng nhận cửa hàng đủ điều kiện bán lẻ xăng dầu",
        "Xác nhận đăng ký tổ chức hội nghị, hội thảo, đào tạo về bán hàng đa cấp",
        "Đăng ký thực hiện khuyến mại", "Cấp giấy phép hoạt động điện lực",
        "Cấp Giấy chứng nhận đủ điều kiện an toàn thực phẩm (ngành Công Thương)",
        "Cấp Giấy chứng nhận huấn luyện kỹ thuật an toàn vật liệu nổ công nghiệp",
    )),
    Field("Khoa học, công nghệ và chuyển đổi số", "SKHCN", False, (5, 10, 15, 20), 0.4, 0.9, (
        "Cấp giấy phép hoạt động bưu chính", "Cấp giấy phép xuất bản bản tin",
        "Đăng ký hoạt động khoa học và công nghệ", "Cấp Giấy chứng nhận doanh nghiệp khoa học và công nghệ",
        "Đăng ký kết quả thực hiện nhiệm vụ khoa học và công nghệ", "Cấp giấy phép hoạt động in",
        "Cấp giấy phép tiến hành công việc bức xạ",
        "Cấp giấy phép thiết lập trang thông tin điện tử tổng hợp",
    )),
    Field("Dân tộc, tôn giáo", "SDTTG", False, (5, 15, 20, 30), 0.2, 0.4, (
        "Đăng ký hoạt động tín ngưỡng", "Đăng ký sinh hoạt tôn giáo tập trung",
        "Thông báo tổ chức quyên góp", "Đề nghị tổ chức cuộc lễ ngoài cơ sở tôn giáo",
        "Công nhận người có uy tín trong đồng bào dân tộc thiểu số",
    )),
    Field("Tiếp công dân, khiếu nại, tố cáo", "TTT", False, (10, 30), 0.3, 0.3, (
        "Tiếp công dân", "Giải quyết khiếu nại lần đầu", "Giải quyết khiếu nại lần hai",
        "Giải quyết tố cáo", "Xử lý đơn thư",
    )),
    Field("Khu kinh tế, khu công nghiệp", "BQLKKT", False, (5, 15, 20), 0.2, 0.9, (
        "Cấp Giấy chứng nhận đăng ký đầu tư trong khu kinh tế", "Điều chỉnh dự án đầu tư trong khu kinh tế",
        "Cấp giấy phép xây dựng trong khu công nghiệp", "Đăng ký nội quy lao động trong khu công nghiệp",
    )),
    Field("Đối ngoại", "VPUBND", False, (10, 15), 0.1, 0.7, (
        "Cho phép sử dụng thẻ đi lại của doanh nhân APEC (ABTC)",
        "Cho phép tổ chức hội nghị, hội thảo quốc tế",
    )),
    Field("Căn cước", "CAT", False, (7,), 4, 0.5, (
        "Cấp thẻ căn cước cho công dân từ đủ 14 tuổi", "Cấp đổi thẻ căn cước", "Cấp lại thẻ căn cước",
        "Cấp giấy chứng nhận căn cước", "Tích hợp, cập nhật thông tin vào thẻ căn cước",
    )),
    Field("Xuất nhập cảnh", "CAT", False, (5, 8), 2, 0.8, (
        "Cấp hộ chiếu phổ thông ở trong nước", "Trình báo mất hộ chiếu phổ thông",
        "Cấp thẻ tạm trú cho người nước ngoài", "Gia hạn tạm trú cho người nước ngoài",
        "Cấp thị thực cho người nước ngoài tại Việt Nam",
    )),
    Field("Đăng ký, quản lý phương tiện", "CAT", False, (0, 2, 3, 8), 4, 0.6, (
        "Đăng ký xe lần đầu", "Đăng ký sang tên xe", "Thu hồi đăng ký, biển số xe",
        "Cấp đổi chứng nhận đăng ký xe, biển số xe", "Đăng ký xe tạm thời",
    )),
    Field("Giấy phép lái xe", "CAT", False, (5, 10), 3, 0.8, (
        "Cấp đổi giấy phép lái xe", "Cấp lại giấy phép lái xe", "Sát hạch, cấp giấy phép lái xe",
    )),
    Field("Phòng cháy, chữa cháy", "CAT", False, (10, 15), 0.3, 0.6, (
        "Thẩm định thiết kế về phòng cháy và chữa cháy", "Nghiệm thu về phòng cháy và chữa cháy",
        "Cấp chứng chỉ hành nghề dịch vụ phòng cháy chữa cháy",
    )),
    Field("Quản lý ngành nghề kinh doanh có điều kiện", "CAT", False, (5,), 0.2, 0.6, (
        "Cấp Giấy chứng nhận đủ điều kiện về an ninh, trật tự",
    )),
    Field("Bảo hiểm xã hội, bảo hiểm y tế", "BHXH", False, (3, 5, 6, 10, 12), 5, 0.95, (
        "Đăng ký, điều chỉnh đóng bảo hiểm xã hội, bảo hiểm y tế",
        "Cấp lại, đổi, điều chỉnh thông tin trên sổ bảo hiểm xã hội, thẻ bảo hiểm y tế",
        "Đăng ký đóng bảo hiểm xã hội tự nguyện", "Giải quyết hưởng chế độ ốm đau",
        "Giải quyết hưởng chế độ thai sản", "Giải quyết hưởng lương hưu",
        "Giải quyết hưởng bảo hiểm xã hội một lần", "Giải quyết hưởng trợ cấp tử tuất",
        "Giải quyết hưởng chế độ tai nạn lao động, bệnh nghề nghiệp",
    )),
    Field("Thuế", "THUE", False, (3, 5, 6, 10), 3, 1.0, (
        "Đăng ký thuế lần đầu", "Thay đổi thông tin đăng ký thuế", "Hoàn thuế giá trị gia tăng",
        "Miễn, giảm thuế sử dụng đất phi nông nghiệp", "Khai, nộp lệ phí trước bạ nhà, đất",
        "Đăng ký sử dụng hóa đơn điện tử", "Gia hạn nộp thuế", "Xác nhận việc thực hiện nghĩa vụ thuế",
    )),
    Field("Kho bạc", "KBNN", False, (1, 2, 4), 2, 1.0, (
        "Kiểm soát chi thường xuyên ngân sách nhà nước", "Kiểm soát thanh toán vốn đầu tư",
        "Đăng ký và sử dụng tài khoản tại Kho bạc Nhà nước",
    )),
    Field("Hải quan", "HQ", False, (1, 2, 8), 1, 1.0, (
        "Thủ tục hải quan đối với hàng hóa xuất khẩu", "Kiểm tra thực tế hàng hóa xuất khẩu, nhập khẩu",
        "Hoàn thuế nhập khẩu",
    )),
    Field("Ngân hàng", "NHNN", False, (10, 15), 0.05, 0.7, (
        "Chấp thuận thay đổi địa điểm đặt trụ sở quỹ tín dụng nhân dân",
        "Cấp giấy phép thành lập quỹ tín dụng nhân dân",
    )),
    Field("Quốc phòng", "BCHQS", False, (15, 30), 0.1, 0.3, (
        "Giải quyết chế độ trợ cấp một lần đối với quân nhân đã phục viên, xuất ngũ",
        "Đăng ký phương tiện kỹ thuật dự bị động viên",
    )),
    Field("Điện", "PCDL", False, (2, 3, 5, 7), 2.5, 0.9, (
        "Cấp điện mới từ lưới điện hạ áp", "Cấp điện mới từ lưới điện trung áp",
        "Thay đổi công suất sử dụng điện", "Di dời công tơ", "Thay đổi chủ thể hợp đồng mua bán điện",
    )),
    Field("Cấp nước", "CTCN", False, (3, 5, 7), 0.8, 0.85, (
        "Lắp đặt đồng hồ nước mới", "Thay đổi chủ thể hợp đồng dịch vụ cấp nước",
        "Tạm ngừng dịch vụ cấp nước",
    )),
)  # fmt: skip


#: Commune-level fields processed by commune police, which belong to the provincial police (CAT).
COMMUNE_POLICE_FIELDS = frozenset({"Đăng ký, quản lý cư trú"})


COMMUNE_DEPARTMENT_PREFIX = "UBND-"


def commune_department_code(commune_code: str) -> str:
    return f"{COMMUNE_DEPARTMENT_PREFIX}{commune_code}"


def departments(province_code: str, communes: list[dict[str, Any]]) -> pd.DataFrame:
    """Provincial departments and agencies, then every commune people's committee."""
    rows = [
        {"code": code, "name": name, "name_en": name_en, "kind": kind, "org_unit_code": province_code}
        for code, name, name_en, kind in DEPARTMENTS
    ]
    for unit in communes:
        bare = unit["name"]
        rows.append(
            {
                "code": commune_department_code(unit["code"]),
                "name": f"Ủy ban nhân dân {bare}",
                "name_en": f"People's Committee of {unit.get('name_en') or bare}",
                "kind": "xa",
                "org_unit_code": unit["code"],
            }
        )
    return pd.DataFrame(rows)


def procedures(rng: np.random.Generator) -> pd.DataFrame:
    """The procedure catalogue with a popularity weight (share of dossiers) and online ceiling.

    Columns beyond the `procedure` table (`weight`, `online`, `by_commune`) are for the generator.
    """
    rows = []
    used: set[str] = set()
    for field in FIELDS:
        popularity = 1.0 / np.arange(1, len(field.procedures) + 1) ** 1.1  # a few procedures dominate
        popularity = rng.permutation(popularity / popularity.sum())
        days = rng.choice(field.days, size=len(field.procedures))
        for name, share, processing_days in zip(field.procedures, popularity, days, strict=True):
            while True:
                code = f"{rng.choice((1, 1, 1, 2))}.{rng.integers(100, 13000):06d}"
                if code not in used:
                    used.add(code)
                    break
            rows.append(
                {
                    "code": code,
                    "name": name,
                    "field": field.name,
                    "department_code": field.department,
                    "processing_days": int(processing_days),
                    "level": "xa" if field.by_commune or field.name in COMMUNE_POLICE_FIELDS else "tinh",
                    "weight": field.weight * share,
                    "online": field.online,
                    "by_commune": field.by_commune,
                }
            )
    return pd.DataFrame(rows)


PROCEDURE_COLUMNS = ("code", "name", "field", "department_code", "processing_days", "level")
