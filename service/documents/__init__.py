"""Administrative documents generated from nomflow's data: layout by Decree 30/2020/NĐ-CP, wording
from config/documents/, DOCX for officials to edit and PDF (rendered from that DOCX) to sign."""
